import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { deadlineIn } from '../../src/deadline.js'
import { ErrorCodes, SluiceOptionError } from '../../src/errors.js'
import { resolvePolicy } from '../../src/policies.js'
import { assertCapabilities, doorOf } from '../../src/store-door.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { RedisStore } from '../../src/stores/redis-store.js'
import type { CheckReply, CheckRequest, Store, StoreDoor } from '../../src/types.js'

const policy = resolvePolicy({ capacity: 2, refillPerSecond: 0.001 })
const check = (key = 'k'): CheckRequest => ({ keys: [key], policies: [policy], cost: 1 })

/** A custom store, as an app writes one: only the public `Store`, over buckets of its own. */
function customStore(extra: Partial<Store> = {}): Store & { requests: CheckRequest[] } {
  const buckets = new MemoryStore({ clock: () => 0 })
  const requests: CheckRequest[] = []
  return {
    kind: 'custom',
    requests,
    check(request) {
      requests.push(request)
      return buckets.check(request)
    },
    ...extra,
  }
}

// Never connected (lazyConnect, and no command is sent): the door is built, not used.
const client = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false })
afterAll(() => client.disconnect())

describe('doorOf', () => {
  it('lets a custom store in through the public Store only, as a store that can fail, and nothing more', () => {
    const store = customStore()
    const door = doorOf(store)
    expect(door).toMatchObject({ kind: 'custom', store })
    expect(door.nodeOf({ keys: ['k'] })).toBe('custom')
    expect(door.caps).toEqual({ canFail: true, settles: false, leases: false })
    expect(door.cached).toBeUndefined()
    expect(Object.isFrozen(door)).toBe(true)
  })

  it('gives a RedisStore a door that can fail, with its deny cache in front', () => {
    const store = new RedisStore(client)
    const door = doorOf(store)
    expect(door).toMatchObject({ kind: 'redis', store })
    expect(door.caps).toEqual({ canFail: true, settles: true, leases: true })
    expect(typeof door.runLeases).toBe('function')
    expect(door.cached?.(check())).toBeUndefined()
  })

  it('gives a MemoryStore a door that cannot fail', async () => {
    const store = new MemoryStore({ clock: () => 0 })
    const door = doorOf(store)
    expect(door).toMatchObject({ kind: 'memory', store })
    expect(door.caps).toEqual({ canFail: false, settles: true, leases: true })
    const [reply] = await door.run([{ op: 'check', request: check() }], deadlineIn(100))
    expect(reply).toMatchObject({ admitted: true, buckets: [{ remaining: 1 }] })
  })

  it('runs a settle on a MemoryStore, and refuses one on a custom store (which cannot settle)', async () => {
    const memory = doorOf(new MemoryStore({ clock: () => 0 }))
    const request = check()
    await memory.run([{ op: 'check', request }], deadlineIn(100))
    const [settled] = await memory.run(
      [{ op: 'settle', request: { keys: request.keys, policies: request.policies, delta: -1 } }],
      deadlineIn(100),
    )
    expect(settled!.buckets[0]!.remaining).toBe(request.policies[0]!.capacity)
    const custom = doorOf(customStore())
    await expect(
      custom.run([{ op: 'settle', request: { keys: ['a'], policies: request.policies, delta: 1 } }], deadlineIn(100)),
    ).rejects.toMatchObject({
      code: ErrorCodes.STORE_UNAVAILABLE,
    })
  })

  it('runs a peek as a dry run, one reply per op, in order', async () => {
    const store = customStore()
    const door = doorOf(store)
    const replies: CheckReply[] = await door.run(
      [
        { op: 'check', request: check('a') },
        { op: 'peek', request: check('a') },
        { op: 'check', request: check('b') },
      ],
      deadlineIn(100),
    )
    expect(replies.map((r) => r.buckets[0]!.remaining)).toEqual([1, 1, 1])
    expect(store.requests.map((r) => r.dryRun === true)).toEqual([false, true, false])
  })

  it("resets through a custom store's own reset, and refuses, coded, for one without", async () => {
    const reset: (readonly string[])[] = []
    const withReset = doorOf(customStore({ reset: async (keys) => void reset.push(keys) }))
    await withReset.reset(['k'], deadlineIn(100))
    expect(reset).toEqual([['k']])
    await expect(doorOf(customStore()).reset(['k'], deadlineIn(100))).rejects.toMatchObject({
      code: ErrorCodes.STORE_UNAVAILABLE,
      message: '@sluice: the custom store cannot reset buckets',
    })
  })

  it("refuses a custom store's call at the deadline it was given", async () => {
    const door = doorOf(customStore({ check: () => new Promise<CheckReply>(() => {}) }))
    await expect(door.run([{ op: 'check', request: check() }], deadlineIn(5))).rejects.toMatchObject({
      code: ErrorCodes.STORE_TIMEOUT,
      message: expect.stringMatching(/\(sent\)$/),
    })
  })
})

describe('assertCapabilities', () => {
  const door = (store: Store): StoreDoor => doorOf(store)

  it('asks nothing of a store when nothing is needed', () => {
    expect(() => assertCapabilities(door(customStore()), [], 'store')).not.toThrow()
  })

  it.each(['settles', 'leases'] as const)('refuses a store that lacks %s with an option error naming the option', (need) => {
    let thrown: unknown
    try {
      assertCapabilities(door(customStore()), [need], 'policies[0].settle')
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(SluiceOptionError)
    expect(thrown).toMatchObject({ code: ErrorCodes.INVALID_OPTION, option: 'policies[0].settle' })
    expect((thrown as Error).message).toMatch(/^@sluice: invalid option `policies\[0\]\.settle`: expected a store that /)
  })

  it('lets the built-in stores through: both can settle and hold leases', () => {
    expect(() => assertCapabilities(door(new MemoryStore()), ['leases'], 'concurrency')).not.toThrow()
    expect(() => assertCapabilities(door(new RedisStore(client)), ['leases'], 'concurrency')).not.toThrow()
    expect(() => assertCapabilities(door(new MemoryStore()), ['settles'], 'settle')).not.toThrow()
    expect(() => assertCapabilities(door(new RedisStore(client)), ['settles'], 'settle')).not.toThrow()
  })
})
