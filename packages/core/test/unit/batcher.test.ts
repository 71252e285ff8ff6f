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

/** A batcher whose flush answers each item with its id doubled, and records every flush. */
function recordingBatcher(maxBatch = 128, fail: (items: Item[]) => Error | undefined = () => undefined) {
  const flushes: Flush[] = []
  const batcher = new Batcher<Item, number>(
    (items, deadlineMs) => {
      flushes.push({ ids: items.map((i) => i.id), deadlineMs })
      const error = fail(items)
      return error === undefined ? Promise.resolve(items.map((i) => i.id * 2)) : Promise.reject(error)
    },
    (item) => item.group,
    maxBatch,
  )
  return { batcher, flushes }
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
})
