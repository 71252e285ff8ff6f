/**
 * Coalesces calls into batches, one flush per group (a Redis Cluster slot) at a time.
 *
 * A call joins the batch of its event-loop turn (`setImmediate` runs after the poll phase, so
 * every request whose bytes arrived in that turn is in it). A group sends a batch only when its
 * previous one has been answered and at least `minIntervalMs` after it was sent; calls that
 * arrive meanwhile wait and go together. A lone request after a quiet moment therefore waits for
 * nothing, and under load each group makes at most one script call per interval, however many
 * requests come: its batches grow with the load, which is what makes a check cheap for Redis and
 * for the app (each call is a socket write and a script run on both sides). At one batch per
 * event-loop turn, requests paced evenly make batches of one or two. The price is a wait of at
 * most one interval, only for requests that arrive less than an interval after a batch left.
 *
 * Each call brings its deadline (monotonic ms); a batch is flushed with the earliest of its
 * calls', so the one timer the flush sets answers for all of them. Calls that wait (behind a
 * batch in flight, or for the interval) have one timer per group, at the earliest deadline among
 * them: each waiting call is refused, unsent, by its own deadline, however long the batch ahead
 * of it takes (a frozen Redis, a caller with a longer budget).
 */
export class Batcher<In, Out> {
  readonly #flush: (items: In[], deadlineMs: number) => Promise<readonly Out[]>
  readonly #groupOf: (item: In) => string | number
  readonly #maxBatch: number
  readonly #expired: () => unknown
  readonly #clock: () => number
  readonly #minIntervalMs: number
  readonly #pending = new Map<string | number, Waiting<In, Out>>()
  readonly #groups = new Map<string | number, GroupState>()
  #scheduled = false

  constructor(
    flush: (items: In[], deadlineMs: number) => Promise<readonly Out[]>,
    groupOf: (item: In) => string | number,
    maxBatch: number,
    expired: () => unknown,
    clock: () => number = () => performance.now(),
    minIntervalMs = 0,
  ) {
    this.#minIntervalMs = minIntervalMs
    this.#flush = flush
    this.#groupOf = groupOf
    this.#maxBatch = maxBatch
    this.#expired = expired
    this.#clock = clock
  }

  push(item: In, deadlineMs: number): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      const group = this.#groupOf(item)
      let waiting = this.#pending.get(group)
      if (waiting === undefined) {
        waiting = { entries: [], timer: undefined, timerAtMs: Number.POSITIVE_INFINITY }
        this.#pending.set(group, waiting)
      }
      waiting.entries.push({ item, deadlineMs, resolve, reject })
      if (deadlineMs < waiting.timerAtMs) this.#armExpiry(group, waiting, deadlineMs)
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => this.#drain())
      }
    })
  }

  /** The group's one expiry timer, moved to `atMs`: the earliest deadline among its waiting calls. */
  #armExpiry(group: string | number, waiting: Waiting<In, Out>, atMs: number): void {
    if (waiting.timer !== undefined) clearTimeout(waiting.timer)
    waiting.timerAtMs = atMs
    if (atMs === Number.POSITIVE_INFINITY) {
      waiting.timer = undefined
      return
    }
    // Whole ms at least, rounded up: a timer may fire a fraction early by the monotonic clock,
    // and then finds nothing expired and waits again.
    waiting.timer = setTimeout(() => this.#expire(group, waiting), Math.max(1, Math.ceil(atMs - this.#clock())))
    waiting.timer.unref()
  }

  /** Refuse, unsent, every waiting call of the group whose deadline has passed. */
  #expire(group: string | number, waiting: Waiting<In, Out>): void {
    waiting.timer = undefined
    if (this.#pending.get(group) !== waiting) return
    const now = this.#clock()
    const expired: Entry<In, Out>[] = []
    let next = Number.POSITIVE_INFINITY
    waiting.entries = waiting.entries.filter((entry) => {
      if (entry.deadlineMs <= now) {
        expired.push(entry)
        return false
      }
      if (entry.deadlineMs < next) next = entry.deadlineMs
      return true
    })
    if (waiting.entries.length === 0) {
      this.#forgetWaiting(group, waiting)
      this.#forgetIfIdle(group)
    } else {
      this.#armExpiry(group, waiting, next)
    }
    for (const entry of expired) entry.reject(this.#expired())
  }

  #forgetWaiting(group: string | number, waiting: Waiting<In, Out>): void {
    if (waiting.timer !== undefined) clearTimeout(waiting.timer)
    waiting.timer = undefined
    this.#pending.delete(group)
  }

  /** A group with nothing in flight or waiting, whose interval has passed, is forgotten (slots are many). */
  #forgetIfIdle(group: string | number): void {
    const state = this.#groups.get(group)
    if (state === undefined || state.inFlight > 0 || state.timer !== undefined || this.#pending.has(group)) return
    if (this.#minIntervalMs <= this.#clock() - state.sentAt) this.#groups.delete(group)
  }

  #drain(): void {
    this.#scheduled = false
    for (const group of [...this.#pending.keys()]) this.#sendGroup(group)
  }

  /** Send a group's waiting calls if it may send now; otherwise they go when it may. */
  #sendGroup(group: string | number): void {
    const waiting = this.#pending.get(group)
    const state = this.#groups.get(group)
    if (waiting === undefined) return
    // A group with a batch in flight sends when that batch is answered.
    if (state !== undefined && state.inFlight > 0) return
    if (state !== undefined && state.timer === undefined) {
      const waitMs = state.sentAt + this.#minIntervalMs - this.#clock()
      if (waitMs > 0) {
        state.timer = setTimeout(() => {
          state.timer = undefined
          this.#sendGroup(group)
        }, waitMs)
        state.timer.unref()
        return
      }
    }
    if (state?.timer !== undefined) return
    this.#forgetWaiting(group, waiting)
    const queue = waiting.entries
    for (let start = 0; start < queue.length; start += this.#maxBatch) {
      this.#send(group, queue.slice(start, start + this.#maxBatch))
    }
  }

  #send(group: string | number, entries: Entry<In, Out>[]): void {
    const now = this.#clock()
    let deadlineMs = Number.POSITIVE_INFINITY
    const batch: Entry<In, Out>[] = []
    for (const entry of entries) {
      if (entry.deadlineMs <= now) {
        entry.reject(this.#expired())
        continue
      }
      batch.push(entry)
      if (entry.deadlineMs < deadlineMs) deadlineMs = entry.deadlineMs
    }
    if (batch.length === 0) return
    let state = this.#groups.get(group)
    if (state === undefined) {
      state = { inFlight: 0, sentAt: now, timer: undefined }
      this.#groups.set(group, state)
    }
    state.inFlight++
    state.sentAt = now
    const settled = (): void => {
      if (--state.inFlight > 0) return
      if (!this.#pending.has(group) && this.#minIntervalMs <= this.#clock() - state.sentAt) {
        // Nothing waits, and the next call may go at once: forget the group (slots are many).
        this.#groups.delete(group)
        return
      }
      this.#sendGroup(group)
    }
    this.#flush(
      batch.map((entry) => entry.item),
      deadlineMs,
    ).then(
      (outs) => {
        settled()
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outs[i]!)
      },
      (error: unknown) => {
        settled()
        for (const entry of batch) entry.reject(error)
      },
    )
  }
}

interface GroupState {
  /** Batches of the group sent and not yet answered. */
  inFlight: number
  /** When its last batch was sent (clock ms). */
  sentAt: number
  /** The wait until the group may send again, while calls wait for it. */
  timer: ReturnType<typeof setTimeout> | undefined
}

/** A group's calls waiting to be sent, and the one timer that refuses them at their deadlines. */
interface Waiting<In, Out> {
  entries: Entry<In, Out>[]
  timer: ReturnType<typeof setTimeout> | undefined
  /** When `timer` fires: the earliest deadline among `entries` (infinite: no timer). */
  timerAtMs: number
}

interface Entry<In, Out> {
  readonly item: In
  readonly deadlineMs: number
  resolve(out: Out): void
  reject(error: unknown): void
}
