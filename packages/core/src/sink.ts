/**
 * A check's way back up, without a promise per layer. A check crosses the limiter, its failover,
 * the store's door, the store and the batcher; as async functions each layer made a promise and
 * an await (a microtask) of its own, and those layers were the largest share of Sluice's own CPU
 * per request (docs/profile.md). Along a chain of sinks, each layer hands the layer below a sink
 * that does its own step and passes the result on: one promise per check, made at the top.
 *
 * The rule every sink (types.ts) keeps: it never throws. A step that can throw catches and calls `reject`
 * on the sink it passes to, so a caller that answers many sinks in a loop (the batcher) answers
 * every one, and no check is left unanswered.
 */
import type { Sink } from './types.js'

/** The one promise of a chain: settled by what `start` does with its sink (a throw in `start` rejects it). */
export function promised<T>(start: (sink: Sink<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start({ resolve, reject }))
}

/** Settle `sink` with `promise`: where a chain of sinks meets a promise (a client's call, a custom store's). */
export function pipe<T>(promise: PromiseLike<T>, sink: Sink<T>): void {
  promise.then(
    (value) => sink.resolve(value),
    (error: unknown) => sink.reject(error),
  )
}
