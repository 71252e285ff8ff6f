import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import { resolvePolicy } from '../../src/policies.js'
import { requestView } from '../../src/request-view.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import type { CheckRequest, LimiterOptions, SlotClaim } from '../../src/types.js'

const MS = 1_000_000
const view = requestView({ ip: '203.0.113.7', headers: {}, socket: { remoteAddress: '203.0.113.7' } })

function manualStore() {
  let now = 0
  const store = new MemoryStore({ clock: () => now })
  return { store, advance: (ms: number) => (now += ms * MS) }
}

let ids = 0
const slot = (limit: number, leaseMs = 1_000, key = 'c'): SlotClaim => ({ key, limit, leaseMs, leaseId: String(++ids) })
const bucket = resolvePolicy({ capacity: 2, refillPerSecond: 0.001 })
const acquire = (store: MemoryStore, s: SlotClaim, keys: string[] = []): boolean =>
  store.checkSync({ keys, policies: keys.map(() => bucket), cost: 1, slots: [s] }).admitted

describe('slots in the memory store', () => {
  it('admit n at once and refuse the next, telling the free slots', () => {
    const { store } = manualStore()
    const replies = [1, 2, 3, 4].map(() => store.checkSync({ keys: [], policies: [], cost: 1, slots: [slot(3)] }))
    expect(replies.map((r) => r.admitted)).toEqual([true, true, true, false])
    expect(replies.map((r) => r.slots![0]!.free)).toEqual([2, 1, 0, 0])
    expect(replies[3]!.slots![0]).toEqual({ status: 'denied', taken: false, free: 0 })
  })

  it('free a slot on release, once; a second release finds nothing', () => {
    const { store } = manualStore()
    const a = slot(1)
    expect(acquire(store, a)).toBe(true)
    expect(acquire(store, slot(1))).toBe(false)
    expect(store.runLeasesSync([{ op: 'release', lease: a }])).toEqual([true])
    expect(store.runLeasesSync([{ op: 'release', lease: a }])).toEqual([false])
    expect(acquire(store, slot(1))).toBe(true)
  })

  it('expire a lease leaseMs after its last renewal, no sooner, and never resurrect it', () => {
    const { store, advance } = manualStore()
    const a = slot(1, 1_000)
    expect(acquire(store, a)).toBe(true)
    advance(900)
    expect(store.runLeasesSync([{ op: 'renew', lease: a }])).toEqual([true])
    advance(999)
    expect(acquire(store, slot(1))).toBe(false)
    advance(1)
    expect(store.runLeasesSync([{ op: 'renew', lease: a }])).toEqual([false])
    expect(store.liveLeases('c')).toBe(0)
    expect(acquire(store, slot(1))).toBe(true)
  })

  it('go all or nothing with the buckets, both ways', () => {
    const { store } = manualStore()
    // A full slot set takes no token.
    expect(acquire(store, slot(1, 1_000, 'c1'), ['b1'])).toBe(true)
    const refused = store.checkSync({ keys: ['b1'], policies: [bucket], cost: 1, slots: [slot(1, 1_000, 'c1')] })
    expect(refused.admitted).toBe(false)
    expect(refused.buckets[0]).toMatchObject({ status: 'allowed', taken: false, remaining: 1 })
    // An empty bucket takes no slot.
    const empty: CheckRequest = { keys: ['b2'], policies: [bucket], cost: 2 }
    store.checkSync(empty)
    const noTokens = store.checkSync({ keys: ['b2'], policies: [bucket], cost: 1, slots: [slot(5, 1_000, 'c2')] })
    expect(noTokens.admitted).toBe(false)
    expect(noTokens.slots![0]).toEqual({ status: 'allowed', taken: false, free: 5 })
    expect(store.liveLeases('c2')).toBe(0)
  })

  it("keep a client's live slots through a flood of other clients, far past maxKeys", () => {
    let now = 0
    const store = new MemoryStore({ maxKeys: 10, clock: () => now })
    expect(acquire(store, slot(2, 30_000, 'victim'))).toBe(true)
    expect(acquire(store, slot(2, 30_000, 'victim'))).toBe(true)
    // 1,000 other clients each hold a slot: an LRU of 10 sets would have evicted the victim's.
    for (let i = 0; i < 1_000; i++) expect(acquire(store, slot(1, 30_000, `flood-${i}`))).toBe(true)
    now += 1_000 * MS
    expect(acquire(store, slot(2, 30_000, 'victim'))).toBe(false)
    expect(store.liveLeases('victim')).toBe(2)
  })

  it('sweep the sets whose leases all expired, so a flood of one-off clients leaves nothing behind', () => {
    const { store, advance } = manualStore()
    for (let i = 0; i < 1_000; i++) expect(acquire(store, slot(1, 1_000, `old-${i}`))).toBe(true)
    expect(store.slotSets).toBe(1_000)
    advance(1_000)
    // Each write sweeps up to two expired sets from the oldest end: 500 writes clear 1,000.
    for (let i = 0; i < 500; i++) expect(acquire(store, slot(1, 1_000, `new-${i}`))).toBe(true)
    expect(store.slotSets).toBe(500)
    // A renewal keeps its set: it moves to the newest end and is never swept while live.
    const kept = slot(1, 1_000, 'kept')
    expect(acquire(store, kept)).toBe(true)
    advance(900)
    expect(store.runLeasesSync([{ op: 'renew', lease: kept }])).toEqual([true])
    advance(200)
    for (let i = 0; i < 400; i++) expect(acquire(store, slot(1, 1_000, `late-${i}`))).toBe(true)
    expect(store.liveLeases('kept')).toBe(1)
    expect(store.slotSets).toBe(401)
  })

  it('agree with a reference model over random starts, ends, crashes and time', () => {
    type Step = { kind: 'start' } | { kind: 'end'; pick: number } | { kind: 'crash'; pick: number } | { kind: 'wait'; ms: number }
    const step = fc.oneof(
      fc.constant<Step>({ kind: 'start' }),
      fc.nat(20).map((pick): Step => ({ kind: 'end', pick })),
      fc.nat(20).map((pick): Step => ({ kind: 'crash', pick })),
      fc.integer({ min: 1, max: 700 }).map((ms): Step => ({ kind: 'wait', ms })),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 80 }), (n, steps) => {
        const { store, advance } = manualStore()
        const leaseMs = 1_000
        let now = 0
        // The model: each lease's expiry; open ones are renewed every leaseMs / 3 by their holder.
        const model = new Map<string, { expiresAt: number; crashed: boolean; claim: SlotClaim }>()
        let lastRenewal = 0
        const renew = (): void => {
          const open = [...model.values()].filter((l) => !l.crashed)
          const answers = store.runLeasesSync(open.map((l) => ({ op: 'renew', lease: l.claim })))
          open.forEach((l, i) => {
            const live = l.expiresAt > now
            expect(answers[i]).toBe(live)
            if (live) l.expiresAt = now + leaseMs
            else model.delete(l.claim.leaseId)
          })
        }
        for (const s of steps) {
          if (s.kind === 'wait') {
            // Time passes in renewal periods, as the process's timer would renew.
            let left = s.ms
            while (left > 0) {
              const to = Math.min(left, lastRenewal + Math.floor(leaseMs / 3) - now)
              advance(to)
              now += to
              left -= to
              if (now - lastRenewal >= Math.floor(leaseMs / 3)) {
                renew()
                lastRenewal = now
              }
            }
            continue
          }
          const held = [...model.values()]
          if (s.kind === 'start') {
            const claim = slot(n, leaseMs)
            const live = held.filter((l) => l.expiresAt > now).length
            const reply = store.checkSync({ keys: [], policies: [], cost: 1, slots: [claim] })
            expect(reply.admitted).toBe(live < n)
            if (reply.admitted) {
              expect(reply.slots![0]!.free).toBe(n - live - 1)
              model.set(claim.leaseId, { expiresAt: now + leaseMs, crashed: false, claim })
            }
            for (const l of held) if (l.expiresAt <= now) model.delete(l.claim.leaseId)
          } else if (held.length > 0) {
            const lease = held[s.pick % held.length]!
            if (s.kind === 'crash') lease.crashed = true
            else if (!lease.crashed) {
              expect(store.runLeasesSync([{ op: 'release', lease: lease.claim }])).toEqual([lease.expiresAt > now])
              model.delete(lease.claim.leaseId)
            }
          }
          expect(store.liveLeases('c')).toBe([...model.values()].filter((l) => l.expiresAt > now).length)
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('a limiter with an in-flight limit (memory)', () => {
  const create = (options: Record<string, unknown>) =>
    createLimiter<object>({ logger: recordingLogger(), ...options } as unknown as LimiterOptions<object>)

  it('admits n requests in flight and refuses the next with 429, Retry-After 1 and the draft headers', async () => {
    const route = create({ name: 'exports', concurrency: 2 }).forRoute(undefined, '*', '*')!
    const [a, b, c] = [await route.check({}, view), await route.check({}, view), await route.check({}, view)]
    expect([a, b, c].map((d) => d!.outcome)).toEqual(['allowed', 'allowed', 'denied'])
    expect(a!.headers).toEqual({
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '1',
      'ratelimit-policy': '"exports";q=2;qu="concurrent-requests"',
      ratelimit: '"exports";r=1',
    })
    expect(c!.headers).toMatchObject({ 'retry-after': '1', ratelimit: '"exports";r=0', 'x-ratelimit-remaining': '0' })
    expect(c!.release).toBeUndefined()
    expect(JSON.parse(c!.deny!.body)).toMatchObject({ status: 429, 'violated-policies': ['exports'] })
    await a!.release!()
    await a!.release!()
    const d = await route.check({}, view)
    expect(d!.outcome).toBe('allowed')
    // A second release of the first request freed nothing more.
    expect((await route.check({}, view))!.outcome).toBe('denied')
    await Promise.all([b!.release!(), d!.release!()])
  })

  it('describes the token bucket in X-RateLimit-* beside an in-flight limit, and lists both', async () => {
    const route = create({
      policies: [
        { name: 'burst', capacity: 5, refillPerSecond: 0.001 },
        { name: 'exports', concurrency: 1 },
      ],
    }).forRoute(undefined, '*', '*')!
    const a = await route.check({}, view)
    expect(a!.headers).toMatchObject({
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '4',
      'ratelimit-policy': '"burst";q=5;w=5000, "exports";q=1;qu="concurrent-requests"',
    })
    expect(a!.headers.ratelimit).toMatch(/^"burst";r=4;t=\d+, "exports";r=0$/)
    // Refused by the slot: no token taken.
    const b = await route.check({}, view)
    expect(b!.outcome).toBe('denied')
    expect(b!.result!.violated).toEqual(['exports'])
    expect(b!.headers['x-ratelimit-remaining']).toBe('4')
    await a!.release!()
  })

  it('lets a handler hold three exports per user with acquire(), released idempotently', async () => {
    const { controls } = create({ capacity: 100, refillPerSecond: 1 })
    const policy = { name: 'exports', concurrency: 3 }
    const held = await Promise.all([1, 2, 3, 4].map(() => controls.acquire({}, { key: 'user-1', policy })))
    expect(held.map((h) => h.allowed)).toEqual([true, true, true, false])
    expect(held[3]!.result.violated).toEqual(['exports'])
    // Another user has slots of their own.
    expect((await controls.acquire({}, { key: 'user-2', policy })).allowed).toBe(true)
    await held[0]!.release()
    await held[0]!.release()
    await held[3]!.release()
    expect((await controls.acquire({}, { key: 'user-1', policy })).allowed).toBe(true)
    expect((await controls.acquire({}, { key: 'user-1', policy })).allowed).toBe(false)
    // Without a policy, the limiter's own concurrency policy; a limiter with none says so.
    await expect(controls.acquire({}, { key: 'user-1' })).rejects.toMatchObject({ code: 'ERR_SLUICE_INVALID_ARGUMENT' })
    const own = create({
      policies: [
        { name: 'b', capacity: 1, refillPerSecond: 0.001 },
        { name: 'up', concurrency: 1 },
      ],
    })
    const first = await own.controls.acquire({}, { key: 'k' })
    expect(first.allowed).toBe(true)
    // The bucket was not touched: a manual check still finds its one token.
    expect((await own.controls.check({}, { key: 'k' })).allowed).toBe(true)
    expect((await own.controls.acquire({}, { key: 'k' })).allowed).toBe(false)
    await first.release()
    // A peek reads the buckets only; with in-flight limits alone there is nothing to read.
    expect((await own.controls.peek({ id: 'k' })).slots).toEqual([])
    await expect(create({ name: 'x', concurrency: 1 }).controls.peek({ id: 'k' })).rejects.toMatchObject({
      code: 'ERR_SLUICE_INVALID_ARGUMENT',
    })
  })
})
