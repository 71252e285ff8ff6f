import { refused } from './errors.js'
import type { Deadline, Sink } from './types.js'

/** A call watched: `watch` hands it out, `settle` takes it back. */
export interface Watched {
  readonly deadline: Deadline
  readonly sink: Pick<Sink<never>, 'reject'>
}

/**
 * `withTimeout` (timeout.ts) for many calls at once, with one timer: each call is rejected with
 * `refused('sent')` at its deadline unless it settled first, as `withTimeout` would, but a call
 * costs a set entry instead of a timer made and cleared. A store's script calls each carry one
 * (the reply of a frozen Redis never comes), so at a moderate load, a call or two per request,
 * the timers were the largest share of Sluice's own CPU per call.
 *
 * The timer stands at the earliest deadline among the calls watched; a call that settles leaves
 * it standing (clearing and re-arming it per call is the cost this saves), and when it fires it
 * refuses what is due and moves to the next earliest, if any call is still out. Deadlines come
 * nearly in order (each is its request's arrival plus the same budget), so it fires about once
 * per budget while calls flow, and not at all once none is out. The timer is unref'd: a pending
 * budget never keeps a process alive.
 */
export class DeadlineWatch {
  readonly #watched = new Set<Watched>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #timerAt: number = Number.POSITIVE_INFINITY
  readonly #clock: () => number

  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock
  }

  /** Settle with `promise`, or reject with `refused('sent')` once `deadline` has passed. */
  race<T>(promise: Promise<T>, deadline: Deadline): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const watched = this.watch(deadline, { reject })
      promise.then(
        (value) => {
          if (this.settle(watched)) resolve(value)
        },
        (error: unknown) => {
          if (this.settle(watched)) reject(error)
        },
      )
    })
  }

  /**
   * `race` without a promise (sink.ts): `sink.reject(refused('sent'))` at `deadline`, unless the
   * call is settled first. Whoever answers the call asks `settle` first.
   */
  watch(deadline: Deadline, sink: Watched['sink']): Watched {
    const watched: Watched = { deadline, sink }
    this.#watched.add(watched)
    if (deadline < this.#timerAt) this.#arm(deadline)
    return watched
  }

  /** Take a call back from the watch: false when its deadline had passed and it was refused already. */
  settle(watched: Watched): boolean {
    return this.#watched.delete(watched)
  }

  /** Calls watched and not yet settled or refused. */
  get size(): number {
    return this.#watched.size
  }

  #arm(atMs: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timerAt = atMs
    // Whole ms, rounded up: the timer must not fire before the deadline it stands for (and one
    // that fires a fraction early by the monotonic clock finds nothing due and waits again).
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(atMs - this.#clock())))
    this.#timer.unref()
  }

  readonly #fire = (): void => {
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    const now = this.#clock()
    const due: Watched[] = []
    let next = Number.POSITIVE_INFINITY
    for (const watched of this.#watched) {
      if (watched.deadline <= now) due.push(watched)
      else if (watched.deadline < next) next = watched.deadline
    }
    for (const watched of due) this.#watched.delete(watched)
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next)
    for (const watched of due) watched.sink.reject(refused('sent'))
  }
}
