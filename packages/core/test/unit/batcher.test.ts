import { describe, expect, it } from 'vitest'
import { Batcher } from '../../src/stores/batcher.js'

interface Item {
  readonly group: string
  readonly id: number
}

interface Flush {
  readonly ids: number[]
  readonly deadlineMs: number
}

const expired = new Error('expired before it was sent')

/**
 * A batcher whose flush answers each item with its id doubled (once `hold` resolves, when given),
 * and records every flush; its clock reads `now.ms`.
 */
function recordingBatcher(maxBatch = 128, fail: (items: Item[]) => Error | undefined = () => undefined, hold?: () => Promise<void>) {
  const flushes: Flush[] = []
  const now = { ms: 0 }
  const batcher = new Batcher<Item, number>(
    async (items, deadlineMs) => {
      flushes.push({ ids: items.map((i) => i.id), deadlineMs })
      await hold?.()
      const error = fail(items)
      if (error !== undefined) throw error
      return items.map((i) => i.id * 2)
    },
    (item) => item.group,
    maxBatch,
    () => expired,
    () => now.ms,
  )
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
    const batcher = new Batcher<Item, number>(
      async (items) => {
        flushed.push(items.map((i) => i.id))
        await gate
        return items.map((i) => i.id)
      },
      (i) => i.group,
      128,
      () => expired,
      () => performance.now(),
    )
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
    const batcher = new Batcher<Item, number>(
      async (items) => {
        sentAt.push(performance.now())
        return items.map((i) => i.id)
      },
      (i) => i.group,
      128,
      () => expired,
      () => performance.now(),
      20,
    )
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
