import { ignoreRejection } from './thenable.js'
import type { CircuitEvent, DecisionEvent, SettleEvent, SkippedEvent, SluiceObserver, StoreCallEvent } from './types.js'

interface ObserverEvents {
  readonly decision: DecisionEvent
  readonly storeCall: StoreCallEvent
  readonly skipped: SkippedEvent
  readonly circuit: CircuitEvent
  readonly settle: SettleEvent
}

/**
 * Call an observer hook, never letting it break a request: a hook that throws, or returns a
 * promise that rejects, is ignored. It is called as a method, so an observer written as a class
 * keeps its `this`.
 */
export function notify<H extends keyof ObserverEvents>(observer: SluiceObserver | undefined, hook: H, event: ObserverEvents[H]): void {
  if (observer === undefined) return
  try {
    const fn = observer[hook] as ((this: SluiceObserver, event: ObserverEvents[H]) => unknown) | undefined
    if (fn !== undefined) ignoreRejection(fn.call(observer, event))
  } catch {
    // An observer is a bystander: its failure must not become the request's.
  }
}
