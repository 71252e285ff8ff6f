import { afterEach, describe, expect, it, vi } from 'vitest'
import { pipe } from '../../src/sink.js'
import { Batcher } from '../../src/stores/batcher.js'
import type { Sink } from '../../src/types.js'

interface Item {
  readonly group: string
  readonly id: number
}

interface Flush {
  readonly ids: number[]
  readonly deadlineMs: number
}

const expired = new Error('expired before it was sent')

/** A flush written as a promise, answering the batcher's sink. */
const viaPromise =
  (flush: (items: Item[], deadlineMs: number) => Promise<readonly number[]>) =>
  (items: Item[], deadlineMs: number, sink: Sink<readonly number[]>): void =>
    pipe(flush(items, deadlineMs), sink)

/**
 * A batcher whose flush answers each item with its id doubled (once `hold` resolves, when given),
 * and records every flush; its clock reads `now.ms`.
 */
function recordingBatcher(maxBatch = 128, fail: (items: Item[]) => Error | undefined = () => undefined, hold?: () => Promise<void>) {
  const flushes: Flush[] = []
  const now = { ms: 0 }
  const batcher = new Batcher<Item, number>({
    flush: viaPromise(async (items, deadlineMs) => {
      flushes.push({ ids: items.map((i) => i.id), deadlineMs })
      await hold?.()
      const error = fail(items)
      if (error !== undefined) throw error
      return items.map((i) => i.id * 2)
    }),
    groupOf: (item) => item.group,
    maxBatch,
    refuse: () => expired,
    clock: () => now.ms,
  })
  return { batcher, flushes, now }
}

const item = (group: string, id: number): Item => ({ group, id })

describe('Batcher', () => {
  it('flushes nothing in the turn of the calls, then one batch per group, each answer to its own call', async () => {
    const { batcher, flushes } = recordingBatcher()
    const answers = [
      batcher.push(item('a', 1), 100),
      batcher.push(item('b', 2), 100),
      batcher.push(item('a', 3), 100),
      batcher.push(item('b', 4), 100),
      batcher.push(item('a', 5), 100),
    ]
    expect(flushes).toEqual([])
    expect(await Promise.all(answers)).toEqual([2, 4, 6, 8, 10])
    expect(flushes.map((f) => f.ids)).toEqual([
      [1, 3, 5],
      [2, 4],
    ])
  })

  it('joins calls made after awaiting within the same turn (microtasks) into one batch', async () => {
    const { batcher, flushes } = recordingBatcher()
    const first = batcher.push(item('a', 1), 100)
    await Promise.resolve()
    await Promise.resolve()
    const second = batcher.push(item('a', 2), 100)
    await Promise.all([first, second])
    expect(flushes.map((f) => f.ids)).toEqual([[1, 2]])
  })

  it('puts calls of a later turn in a batch of their own', async () => {
    const { batcher, flushes } = recordingBatcher()
    const first = batcher.push(item('a', 1), 100)
    await first
    const later = [batcher.push(item('a', 2), 100), batcher.push(item('a', 3), 100)]
    await Promise.all(later)
    expect(flushes.map((f) => f.ids)).toEqual([[1], [2, 3]])
  })

  it('slices a group into batches of at most maxBatch, in call order', async () => {
    const { batcher, flushes } = recordingBatcher(3)
    const answers = Array.from({ length: 7 }, (_, i) => batcher.push(item('a', i), 100))
    expect(await Promise.all(answers)).toEqual([0, 2, 4, 6, 8, 10, 12])
    expect(flushes.map((f) => f.ids)).toEqual([[0, 1, 2], [3, 4, 5], [6]])
  })

  it("flushes each batch with the earliest of its calls' deadlines", async () => {
    const { batcher, flushes } = recordingBatcher(3)
    const deadlines = [50, 20, 30, 90, 80, 70, 60]
    await Promise.all(deadlines.map((d, i) => batcher.push(item(i < 5 ? 'a' : 'b', i), d)))
    expect(flushes).toEqual([
      { ids: [0, 1, 2], deadlineMs: 20 },
      { ids: [3, 4], deadlineMs: 80 },
      { ids: [5, 6], deadlineMs: 60 },
    ])
  })

  it('rejects every call of a batch whose flush rejects, and only that batch', async () => {
    const broken = new Error('the node is down')
    const { batcher, flushes } = recordingBatcher(2, (items) => (items.some((i) => i.id === 2) ? broken : undefined))
    const answers = [1, 2, 3, 4].map((id) => batcher.push(item('a', id), 100)).concat(batcher.push(item('b', 5), 100))
    const settled = await Promise.allSettled(answers)
    expect(flushes.map((f) => f.ids)).toEqual([[1, 2], [3, 4], [5]])
    expect(settled).toEqual([
      { status: 'rejected', reason: broken },
      { status: 'rejected', reason: broken },
      { status: 'fulfilled', value: 6 },
      { status: 'fulfilled', value: 8 },
      { status: 'fulfilled', value: 10 },
    ])
  })

  it('keeps batching after a rejected flush', async () => {
    let failing = true
    const { batcher, flushes } = recordingBatcher(128, () => (failing ? new Error('down') : undefined))
    await expect(batcher.push(item('a', 1), 100)).rejects.toThrow('down')
    failing = false
    expect(await Promise.all([batcher.push(item('a', 2), 100), batcher.push(item('a', 3), 100)])).toEqual([4, 6])
    expect(flushes.map((f) => f.ids)).toEqual([[1], [2, 3]])
  })

  it("holds a group's calls while its batch is in flight, and sends them together when it is answered", async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const { batcher, flushes } = recordingBatcher(
      128,
      () => undefined,
      () => gate,
    )
    const first = batcher.push(item('a', 1), 100)
    await new Promise((resolve) => setImmediate(resolve))
    expect(flushes.map((f) => f.ids)).toEqual([[1]])
    // Two later turns while the first batch is in flight: they wait, and another group does not.
    const waiting = [batcher.push(item('a', 2), 100)]
    await new Promise((resolve) => setImmediate(resolve))
    waiting.push(batcher.push(item('a', 3), 100))
    const other = batcher.push(item('b', 9), 100)
    await new Promise((resolve) => setImmediate(resolve))
    expect(flushes.map((f) => f.ids)).toEqual([[1], [9]])
    release()
    expect(await Promise.all([first, ...waiting, other])).toEqual([2, 4, 6, 18])
    expect(flushes.map((f) => f.ids)).toEqual([[1], [9], [2, 3]])
  })

  it('refuses a call whose deadline passed while it waited, without sending it', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const { batcher, flushes, now } = recordingBatcher(
      128,
      () => undefined,
      () => gate,
    )
    const first = batcher.push(item('a', 1), 100)
    await new Promise((resolve) => setImmediate(resolve))
    const late = batcher.push(item('a', 2), 50)
    const inTime = batcher.push(item('a', 3), 500)
    await new Promise((resolve) => setImmediate(resolve))
    now.ms = 60
    release()
    await expect(late).rejects.toBe(expired)
    expect(await Promise.all([first, inTime])).toEqual([2, 6])
    expect(flushes.map((f) => f.ids)).toEqual([[1], [3]])
  })

  it('refuses a waiting call, unsent, by its own deadline while the batch ahead of it is still out', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const flushed: number[][] = []
    const batcher = new Batcher<Item, number>({
      flush: viaPromise(async (items) => {
        flushed.push(items.map((i) => i.id))
        await gate
        return items.map((i) => i.id)
      }),
      groupOf: (i) => i.group,
      maxBatch: 128,
      refuse: () => expired,
    })
    // The batch ahead has no deadline at all; the calls behind it have their own.
    const ahead = batcher.push(item('a', 1), Number.POSITIVE_INFINITY)
    await new Promise((resolve) => setImmediate(resolve))
    const startedAt = performance.now()
    const short = batcher.push(item('a', 2), startedAt + 20)
    const shorter = batcher.push(item('a', 3), startedAt + 10)
    const patient = batcher.push(item('a', 4), Number.POSITIVE_INFINITY)
    await expect(shorter).rejects.toBe(expired)
    await expect(short).rejects.toBe(expired)
    // Refused at its deadline, not when the batch ahead is answered (it still is not).
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(19)
    expect(flushed).toEqual([[1]])
    release()
    expect(await Promise.all([ahead, patient])).toEqual([1, 4])
    expect(flushed).toEqual([[1], [4]])
  })

  it('sends at most one batch per group per interval, and a call after a quiet interval at once', async () => {
    const sentAt: number[] = []
    const batcher = new Batcher<Item, number>({
      flush: viaPromise(async (items) => {
        sentAt.push(performance.now())
        return items.map((i) => i.id)
      }),
      groupOf: (i) => i.group,
      maxBatch: 128,
      refuse: () => expired,
      minIntervalMs: 20,
    })
    expect(await batcher.push(item('a', 1), Number.POSITIVE_INFINITY)).toBe(1)
    // Answered at once, but the group sent less than 20 ms ago: these wait, and go as one batch.
    const waiting = [batcher.push(item('a', 2), Number.POSITIVE_INFINITY), batcher.push(item('a', 3), Number.POSITIVE_INFINITY)]
    await new Promise((resolve) => setImmediate(resolve))
    expect(sentAt).toHaveLength(1)
    expect(await Promise.all(waiting)).toEqual([2, 3])
    expect(sentAt).toHaveLength(2)
    // Timers may fire up to a millisecond before their fractional due time.
    expect(sentAt[1]! - sentAt[0]!).toBeGreaterThanOrEqual(19)
    // Another group is not held by this one.
    const started = sentAt.length
    await batcher.push(item('b', 4), Number.POSITIVE_INFINITY)
    expect(sentAt).toHaveLength(started + 1)
  })
})

describe('Batcher: a flush answers its batch once', () => {
  it('a flush that throws after answering leaves the answer; one that throws before rejects every call', async () => {
    let throwAfter = true
    const batcher = new Batcher<Item, number>({
      flush: (items, _deadlineMs, sink) => {
        if (throwAfter) sink.resolve(items.map((i) => i.id))
        throw new Error('flush threw')
      },
      groupOf: (i) => i.group,
      maxBatch: 128,
      refuse: () => expired,
    })
    expect(
      await Promise.all([batcher.push(item('a', 1), Number.POSITIVE_INFINITY), batcher.push(item('a', 2), Number.POSITIVE_INFINITY)]),
    ).toEqual([1, 2])
    throwAfter = false
    const calls = [batcher.push(item('a', 3), Number.POSITIVE_INFINITY), batcher.push(item('a', 4), Number.POSITIVE_INFINITY)]
    for (const call of calls) await expect(call).rejects.toThrow('flush threw')
    // The lane was freed: the next call goes.
    throwAfter = true
    expect(await batcher.push(item('a', 5), Number.POSITIVE_INFINITY)).toBe(5)
  })
})

/** A flush that holds every call until the test answers it; records each call's group and ids. */
function gatedBatcher(laneOf?: (group: string | number) => string | number) {
  const calls: { ids: number[]; answer: () => void }[] = []
  const now = { ms: 0 }
  const batcher = new Batcher<Item, number>({
    flush: viaPromise(
      (items) =>
        new Promise<number[]>((resolve) => {
          calls.push({ ids: items.map((i) => i.id), answer: () => resolve(items.map((i) => i.id * 2)) })
        }),
    ),
    groupOf: (i) => i.group,
    ...(laneOf === undefined ? {} : { laneOf }),
    maxBatch: 128,
    refuse: () => expired,
    clock: () => now.ms,
  })
  return { batcher, calls, now }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('Batcher: adaptive coalescing', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('sends a call of an idle group at the end of its turn, with no timer and no wait on the clock', async () => {
    const setTimer = vi.spyOn(globalThis, 'setTimeout')
    const { batcher, flushes, now } = recordingBatcher()
    const answers = [batcher.push(item('a', 1), 50), batcher.push(item('a', 2), 40)]
    expect(flushes).toEqual([])
    await nextTurn()
    // Sent in the next check phase, the clock still at 0: no time was waited for.
    expect(flushes).toEqual([{ ids: [1, 2], deadlineMs: 40 }])
    expect(now.ms).toBe(0)
    expect(await Promise.all(answers)).toEqual([2, 4])
    // And again after the group went idle: still no timer.
    expect(await batcher.push(item('a', 3), 50)).toBe(6)
    expect(setTimer).not.toHaveBeenCalled()
  })

  it('arms one timer, for the deadlines, only for calls that wait behind a call in flight', async () => {
    const { batcher, calls } = gatedBatcher()
    const first = batcher.push(item('a', 1), 100)
    await nextTurn()
    const setTimer = vi.spyOn(globalThis, 'setTimeout')
    const waiting = [batcher.push(item('a', 2), 100), batcher.push(item('a', 3), 90)]
    await nextTurn()
    expect(setTimer).toHaveBeenCalledTimes(1)
    calls[0]!.answer()
    await first
    calls[1]!.answer()
    expect(await Promise.all(waiting)).toEqual([4, 6])
  })

  it('holds arrivals of many turns while a call is in flight, and sends them as one call when it returns', async () => {
    const { batcher, calls } = gatedBatcher()
    const first = batcher.push(item('a', 1), 100)
    await nextTurn()
    const waiting: Promise<number>[] = []
    for (let turn = 0; turn < 5; turn++) {
      waiting.push(batcher.push(item('a', 10 + turn), 100), batcher.push(item('a', 20 + turn), 100))
      await nextTurn()
    }
    // However many turns pass, nothing more goes while the call is out.
    expect(calls.map((c) => c.ids)).toEqual([[1]])
    calls[0]!.answer()
    await first
    // Sent when the call returned, before any later turn: one call for all ten.
    expect(calls.map((c) => c.ids)).toEqual([[1], [10, 20, 11, 21, 12, 22, 13, 23, 14, 24]])
    // Arrivals during that call wait for it in turn.
    const third = batcher.push(item('a', 30), 100)
    await nextTurn()
    expect(calls).toHaveLength(2)
    calls[1]!.answer()
    await Promise.all(waiting)
    await nextTurn()
    expect(calls.map((c) => c.ids)[2]).toEqual([30])
    calls[2]!.answer()
    expect(await third).toBe(60)
  })

  it('batches per group but counts calls in flight per lane: slots of one node wait for that node', async () => {
    // Slots 1 and 2 on node A, slot 3 on node B.
    const nodeOf = (slot: string | number): string => (slot === 's3' ? 'B' : 'A')
    const { batcher, calls } = gatedBatcher(nodeOf)
    const first = batcher.push(item('s1', 1), 100)
    await nextTurn()
    expect(calls.map((c) => c.ids)).toEqual([[1]])
    // Node A is busy: slot 2 waits (and slot 1 again); node B is idle: slot 3 goes at once.
    const onA = [batcher.push(item('s2', 2), 100), batcher.push(item('s1', 4), 100), batcher.push(item('s2', 5), 100)]
    const onB = batcher.push(item('s3', 3), 100)
    await nextTurn()
    expect(calls.map((c) => c.ids)).toEqual([[1], [3]])
    // Node B's answer frees nothing on A.
    calls[1]!.answer()
    expect(await onB).toBe(6)
    expect(calls).toHaveLength(2)
    // Node A's answer sends everything that waited for it, one call per slot, at once.
    calls[0]!.answer()
    await first
    expect(calls.map((c) => c.ids).slice(2)).toEqual([[2, 5], [4]])
    // Two calls now in flight on A: a new arrival waits for both to be answered.
    const later = batcher.push(item('s1', 6), 100)
    await nextTurn()
    calls[2]!.answer()
    await nextTurn()
    expect(calls).toHaveLength(4)
    calls[3]!.answer()
    expect(await Promise.all(onA)).toEqual([4, 8, 10])
    expect(calls.map((c) => c.ids)[4]).toEqual([6])
    calls[4]!.answer()
    expect(await later).toBe(12)
  })

  it('refuses a call held for its node by its own deadline, unsent, and sends the rest', async () => {
    const nodeOf = (): string => 'A'
    const { batcher, calls, now } = gatedBatcher(nodeOf)
    const first = batcher.push(item('s1', 1), 100)
    await nextTurn()
    const late = batcher.push(item('s2', 2), 30)
    const inTime = batcher.push(item('s2', 3), 500)
    await nextTurn()
    now.ms = 40
    calls[0]!.answer()
    await expect(late).rejects.toBe(expired)
    await first
    expect(calls.map((c) => c.ids)).toEqual([[1], [3]])
    calls[1]!.answer()
    expect(await inTime).toBe(6)
  })
})
