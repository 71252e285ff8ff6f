/**
 * Coalesces calls into batches that adapt to the load, with no setting: a batch goes as soon
 * as the previous call on its lane is answered.
 *
 * - A call whose lane (a Redis node) has nothing in flight goes at the end of the current
 *   event-loop turn, with no timer: `setImmediate` runs right after the poll phase, so every
 *   request whose bytes arrived in that turn shares the call, and a lone request waits for
 *   nothing but the rest of its own turn. (A microtask would flush after each callback, before
 *   the other requests of the same poll had run: batches of one where a turn brings many.)
 * - While a call of its lane is in flight, a call waits, and everything that waited goes
 *   together when the lane's calls are answered: a call waits at most the remaining round trip
 *   of the one ahead, which grows only when Redis is slow, and batches grow with the load.
 * - A batch is one group's (a Cluster slot's: one script call runs in one slot), at most
 *   `maxBatch` calls; in-flight calls are counted per lane, so many slots on one node batch as
 *   one node does, while each slot keeps its own calls.
 * - `minIntervalMs` (opt-in, 0 by default) caps the calls: a group then sends at most once per
 *   interval, and calls that arrive meanwhile wait for it. That buys Redis CPU at moderate load
 *   for a wait of up to the interval on every call that comes less than an interval after one.
 *
 * Each call brings its deadline (monotonic ms); a batch is flushed with the earliest of its
 * calls', so the one timer the flush sets answers for all of them. A group that must wait (its
 * lane busy, or its interval) has one timer, at the earliest deadline among its calls: each
 * waiting call is refused, unsent, by its own deadline, however long the batch ahead of it
 * takes (a frozen Redis, a caller with a longer budget). A call that goes this turn needs no
 * timer: its deadline is checked when it is sent.
 */

import { promised } from '../sink.js'
import type { Sink } from '../types.js'

type Key = string | number

export interface BatcherOptions<In, Out> {
  /** Sends one group's calls as one call, and answers `sink` with each call's answer, in order. */
  readonly flush: (items: In[], deadlineMs: number, sink: Sink<readonly Out[]>) => void
  /** The group a call is batched in: a Cluster slot (one script call runs in one slot). */
  readonly groupOf: (item: In) => Key
  /** Where a group's calls run (a Cluster node): calls in flight are counted per lane. Default: its own lane per group. */
  readonly laneOf?: (group: Key) => Key
  /** The most calls in one batch. */
  readonly maxBatch: number
  /** The error a waiting call is refused with, unsent, when its deadline passes. */
  readonly refuse: () => unknown
  /** Monotonic ms. Default: `performance.now`. */
  readonly clock?: () => number
  /** At least this long between two sends of one group; 0 (the default): no floor, adaptive. */
  readonly minIntervalMs?: number
}

const OWN_LANE = (group: Key): Key => group

export class Batcher<In, Out> {
  readonly #flush: (items: In[], deadlineMs: number, sink: Sink<readonly Out[]>) => void
  readonly #groupOf: (item: In) => Key
  readonly #laneOf: (group: Key) => Key
  readonly #maxBatch: number
  readonly #refuse: () => unknown
  readonly #clock: () => number
  readonly #minIntervalMs: number
  /** Each group's calls not yet sent. */
  readonly #waiting = new Map<Key, Waiting<In, Out>>()
  /** Lanes with calls in flight, or groups held for one. */
  readonly #lanes = new Map<Key, Lane>()
  /** When each group last sent, and its interval timer: only with `minIntervalMs`. */
  readonly #intervals = new Map<Key, Interval>()
  /** Groups that got calls this turn and are not held: the end-of-turn drain sends them. */
  #fresh: Key[] = []
  #scheduled = false

  constructor(options: BatcherOptions<In, Out>) {
    this.#flush = options.flush
    this.#groupOf = options.groupOf
    this.#laneOf = options.laneOf ?? OWN_LANE
    this.#maxBatch = options.maxBatch
    this.#refuse = options.refuse
    this.#clock = options.clock ?? (() => performance.now())
    this.#minIntervalMs = options.minIntervalMs ?? 0
  }

  push(item: In, deadlineMs: number): Promise<Out> {
    return promised((sink) => this.enqueue(item, deadlineMs, sink))
  }

  /** `push`, answering `sink` (sink.ts) instead of making a promise: a check's path. */
  enqueue(item: In, deadlineMs: number, sink: Sink<Out>): void {
    let group: Key
    try {
      group = this.#groupOf(item)
    } catch (error) {
      sink.reject(error)
      return
    }
    let waiting = this.#waiting.get(group)
    if (waiting === undefined) {
      waiting = { entries: [], held: undefined, timer: undefined, timerAtMs: Number.POSITIVE_INFINITY }
      this.#waiting.set(group, waiting)
      this.#fresh.push(group)
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(this.#drain)
      }
    }
    waiting.entries.push({ item, deadlineMs, sink })
    // A held group's calls wait past this turn: the group's timer refuses each by its deadline.
    if (waiting.held !== undefined && deadlineMs < waiting.timerAtMs) this.#armExpiry(group, waiting, deadlineMs)
  }

  readonly #drain = (): void => {
    this.#scheduled = false
    const fresh = this.#fresh
    this.#fresh = []
    for (const group of fresh) this.#sendOrHold(group)
  }

  /**
   * Send a group's waiting calls now if its lane is idle (and its interval passed); else hold
   * them. `laneFreed`: the lane has just become idle, and this group is one of those that
   * waited for it, which all go now even as the first of them makes the lane busy again.
   */
  #sendOrHold(group: Key, laneFreed = false): void {
    const waiting = this.#waiting.get(group)
    if (waiting === undefined || waiting.held !== undefined) return
    const laneKey = this.#laneOf(group)
    const lane = this.#lanes.get(laneKey)
    if (!laneFreed && lane !== undefined && lane.inFlight > 0) {
      // Goes when the lane's calls are answered.
      lane.held.add(group)
      this.#hold(group, waiting, { lane: laneKey })
      return
    }
    if (this.#minIntervalMs > 0) {
      const interval = this.#intervals.get(group)
      const waitMs = interval === undefined ? 0 : interval.sentAt + this.#minIntervalMs - this.#clock()
      if (interval !== undefined && waitMs > 0) {
        interval.timer = setTimeout(() => {
          interval.timer = undefined
          const held = this.#waiting.get(group)
          if (held === undefined) return
          held.held = undefined
          this.#sendOrHold(group)
        }, waitMs)
        interval.timer.unref()
        this.#hold(group, waiting, { interval })
        return
      }
    }
    this.#waiting.delete(group)
    this.#clearExpiry(waiting)
    const queue = waiting.entries
    for (let start = 0; start < queue.length; start += this.#maxBatch) {
      this.#send(group, laneKey, start === 0 && queue.length <= this.#maxBatch ? queue : queue.slice(start, start + this.#maxBatch))
    }
  }

  #hold(group: Key, waiting: Waiting<In, Out>, on: Hold): void {
    waiting.held = on
    let earliest = Number.POSITIVE_INFINITY
    for (const entry of waiting.entries) if (entry.deadlineMs < earliest) earliest = entry.deadlineMs
    this.#armExpiry(group, waiting, earliest)
  }

  /** The group's one expiry timer, moved to `atMs`: the earliest deadline among its waiting calls. */
  #armExpiry(group: Key, waiting: Waiting<In, Out>, atMs: number): void {
    this.#clearExpiry(waiting)
    waiting.timerAtMs = atMs
    if (atMs === Number.POSITIVE_INFINITY) return
    // Whole ms at least, rounded up: a timer may fire a fraction early by the monotonic clock,
    // and then finds nothing expired and waits again.
    waiting.timer = setTimeout(() => this.#expire(group, waiting), Math.max(1, Math.ceil(atMs - this.#clock())))
    waiting.timer.unref()
  }

  #clearExpiry(waiting: Waiting<In, Out>): void {
    if (waiting.timer !== undefined) clearTimeout(waiting.timer)
    waiting.timer = undefined
    waiting.timerAtMs = Number.POSITIVE_INFINITY
  }

  /** Refuse, unsent, every waiting call of the group whose deadline has passed. */
  #expire(group: Key, waiting: Waiting<In, Out>): void {
    waiting.timer = undefined
    waiting.timerAtMs = Number.POSITIVE_INFINITY
    if (this.#waiting.get(group) !== waiting) return
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
      this.#waiting.delete(group)
      const held = waiting.held
      if (held?.lane !== undefined) this.#lanes.get(held.lane)?.held.delete(group)
      if (held?.interval?.timer !== undefined) {
        clearTimeout(held.interval.timer)
        held.interval.timer = undefined
      }
    } else {
      this.#armExpiry(group, waiting, next)
    }
    for (const entry of expired) entry.sink.reject(this.#refuse())
  }

  #send(group: Key, laneKey: Key, entries: Entry<In, Out>[]): void {
    const now = this.#clock()
    let deadlineMs = Number.POSITIVE_INFINITY
    const batch: Entry<In, Out>[] = []
    for (const entry of entries) {
      if (entry.deadlineMs <= now) {
        entry.sink.reject(this.#refuse())
        continue
      }
      batch.push(entry)
      if (entry.deadlineMs < deadlineMs) deadlineMs = entry.deadlineMs
    }
    if (batch.length === 0) return
    let lane = this.#lanes.get(laneKey)
    if (lane === undefined) {
      lane = { inFlight: 0, held: new Set() }
      this.#lanes.set(laneKey, lane)
    }
    lane.inFlight++
    if (this.#minIntervalMs > 0) {
      const interval = this.#intervals.get(group)
      if (interval === undefined) this.#intervals.set(group, { sentAt: now, timer: undefined })
      else interval.sentAt = now
    }
    const settled = (): void => {
      this.#forgetInterval(group)
      if (--lane.inFlight > 0) return
      // The lane is idle: everything that waited for it goes now, together, one batch per group.
      this.#lanes.delete(laneKey)
      if (lane.held.size === 0) return
      for (const held of [...lane.held]) {
        const waiting = this.#waiting.get(held)
        if (waiting === undefined) continue
        waiting.held = undefined
        this.#sendOrHold(held, true)
      }
    }
    const items = new Array<In>(batch.length)
    for (let i = 0; i < batch.length; i++) items[i] = batch[i]!.item
    let answered = false
    const sink: Sink<readonly Out[]> = {
      resolve(outs) {
        if (answered) return
        answered = true
        settled()
        for (let i = 0; i < batch.length; i++) batch[i]!.sink.resolve(outs[i]!)
      },
      reject(error) {
        if (answered) return
        answered = true
        settled()
        for (const entry of batch) entry.sink.reject(error)
      },
    }
    try {
      this.#flush(items, deadlineMs, sink)
    } catch (error) {
      sink.reject(error)
    }
  }

  /** A group whose interval has passed, with nothing waiting, is forgotten (slots are many). */
  #forgetInterval(group: Key): void {
    if (this.#minIntervalMs === 0) return
    const interval = this.#intervals.get(group)
    if (interval === undefined || interval.timer !== undefined || this.#waiting.has(group)) return
    if (this.#minIntervalMs <= this.#clock() - interval.sentAt) this.#intervals.delete(group)
  }
}

interface Lane {
  /** Batches sent on the lane and not yet answered. */
  inFlight: number
  /** Groups whose calls wait for this lane's calls to be answered. */
  readonly held: Set<Key>
}

interface Interval {
  /** When the group last sent (clock ms). */
  sentAt: number
  /** The wait until the group may send again, while calls wait for it. */
  timer: ReturnType<typeof setTimeout> | undefined
}

/** What a held group waits for: its lane's calls, or its interval. */
interface Hold {
  readonly lane?: Key
  readonly interval?: Interval
}

/** A group's calls waiting to be sent, and the one timer that refuses them at their deadlines. */
interface Waiting<In, Out> {
  entries: Entry<In, Out>[]
  /** Undefined: goes at the end of this turn. */
  held: Hold | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  /** When `timer` fires: the earliest deadline among `entries` (infinite: no timer). */
  timerAtMs: number
}

interface Entry<In, Out> {
  readonly item: In
  readonly deadlineMs: number
  readonly sink: Sink<Out>
}
