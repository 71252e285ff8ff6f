import { type RedisServer, startRedis } from '@sluice/harness'
import fc from 'fast-check'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_BUCKET_LUA_TEST_CLOCK } from '../../src/scripts/token-bucket.js'
import { checkOp, decodeBatch, encodeBatch, leaseOp } from '../../src/scripts/wire.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import type { CheckRequest, LeaseOp, SlotClaim, WireOp } from '../../src/types.js'

// The script's slots (kinds 4 to 6) against a reference model of live leases and against the
// memory store, on random starts, ends, aborts, crashes and waits, with time under the test's
// control (the script's clock from its last two ARGV). A start also takes a token from a small
// bucket, so admission is all or nothing both ways; renewals go as one batch, as the process's
// timer sends them.

let server: RedisServer
let redis: Redis
type TestScript = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
  redis.defineCommand('sluiceTestClockLeases', { lua: TOKEN_BUCKET_LUA_TEST_CLOCK })
})
afterAll(async () => {
  await server.stop()
})

type Step =
  | { readonly kind: 'start'; readonly withBucket: boolean }
  | { readonly kind: 'end' | 'abort' | 'crash'; readonly pick: number }
  | { readonly kind: 'wait'; readonly ms: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.boolean().map((withBucket): Step => ({ kind: 'start', withBucket })),
  fc.nat(30).map((pick): Step => ({ kind: 'end', pick })),
  fc.nat(30).map((pick): Step => ({ kind: 'abort', pick })),
  fc.nat(30).map((pick): Step => ({ kind: 'crash', pick })),
  fc.integer({ min: 1, max: 900 }).map((ms): Step => ({ kind: 'wait', ms })),
)

let run = 0

describe('in-flight slots: script and memory store against a reference model', () => {
  it('agree on every admission, renewal and release', async () => {
    const script = (redis as unknown as { sluiceTestClockLeases: TestScript }).sluiceTestClockLeases.bind(redis)
    const bucket = { capacity: 3, intervalNs: 400_000_000, shadow: false }
    const leaseMs = 1_000
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 60 }), async (n, steps) => {
        const id = ++run
        const setKey = `prop:{${id}}:c:x`
        const bucketKey = `prop:{${id}}:b`
        let nowUs = 1_700_000_000_000_000 + id * 1_000_000_000
        let memoryNs = 0
        const memory = new MemoryStore({ clock: () => memoryNs })
        const call = async (ops: WireOp[]) => {
          const { keys, args } = encodeBatch(ops, 0)
          const raw = await script(keys.length, ...keys, ...args, String(Math.floor(nowUs / 1e6)), String(nowUs % 1e6))
          return decodeBatch(raw, ops).steps
        }
        // The model: each lease's expiry (µs), and whether its holder still renews it.
        const model = new Map<string, { expiresUs: number; renewing: boolean; claim: SlotClaim }>()
        let ids = 0
        let lastRenewalUs = nowUs
        const live = () => [...model.values()].filter((l) => l.expiresUs > nowUs)
        const renewAll = async () => {
          const open = [...model.values()].filter((l) => l.renewing)
          if (open.length === 0) return
          const ops: LeaseOp[] = open.map((l) => ({ op: 'renew', lease: { key: setKey, leaseId: l.claim.leaseId, leaseMs } }))
          const answers = (await call(ops.map(leaseOp))).map((s) => s.reply.admitted)
          expect(memory.runLeasesSync(ops)).toEqual(answers)
          open.forEach((l, i) => {
            expect(answers[i]).toBe(l.expiresUs > nowUs)
            if (answers[i]) l.expiresUs = nowUs + leaseMs * 1_000
            else model.delete(l.claim.leaseId)
          })
        }
        for (const s of steps) {
          if (s.kind === 'wait') {
            let leftUs = s.ms * 1_000
            while (leftUs > 0) {
              const period = Math.floor(leaseMs / 3) * 1_000
              const toUs = Math.min(leftUs, lastRenewalUs + period - nowUs)
              nowUs += toUs
              memoryNs += toUs * 1_000
              leftUs -= toUs
              if (nowUs - lastRenewalUs >= period) {
                await renewAll()
                lastRenewalUs = nowUs
              }
            }
            continue
          }
          if (s.kind === 'start') {
            const claim: SlotClaim = { key: setKey, limit: n, leaseMs, leaseId: String(++ids) }
            const request: CheckRequest = s.withBucket
              ? { keys: [bucketKey], policies: [bucket], cost: 1, slots: [claim] }
              : { keys: [], policies: [], cost: 1, slots: [claim] }
            const before = live().length
            const expected = memory.checkSync(request)
            const [got] = await call([checkOp(request)])
            expect(got!.reply).toEqual(expected)
            const fits = before < n
            expect(got!.reply.slots![0]!.status).toBe(fits ? 'allowed' : 'denied')
            if (!s.withBucket) expect(got!.reply.admitted).toBe(fits)
            if (got!.reply.admitted) {
              expect(got!.reply.slots![0]!.free).toBe(n - before - 1)
              model.set(claim.leaseId, { expiresUs: nowUs + leaseMs * 1_000, renewing: true, claim })
            }
            for (const l of [...model.values()]) if (l.expiresUs <= nowUs) model.delete(l.claim.leaseId)
            continue
          }
          const held = [...model.values()]
          if (held.length === 0) continue
          const lease = held[s.pick % held.length]!
          if (s.kind === 'crash') {
            // Its holder is gone: never renewed, never released; it expires by itself.
            lease.renewing = false
            continue
          }
          if (!lease.renewing) continue
          // An end or an abort releases (the adapters release on 'close' either way); a second
          // release, as a retry would send it, finds nothing.
          const op: LeaseOp = { op: 'release', lease: { key: setKey, leaseId: lease.claim.leaseId, leaseMs } }
          const twice = [leaseOp(op), leaseOp(op)]
          const answers = (await call(twice)).map((x) => x.reply.admitted)
          expect(memory.runLeasesSync([op, op])).toEqual(answers)
          expect(answers).toEqual([lease.expiresUs > nowUs, false])
          model.delete(lease.claim.leaseId)
        }
        // The set holds exactly the live leases (expired ones linger until pruned), and has a TTL.
        await redis.zremrangebyscore(setKey, '-inf', nowUs)
        expect(await redis.zcard(setKey)).toBe(live().length)
        if (live().length > 0) expect(await redis.pttl(setKey)).toBeGreaterThan(0)
        else expect(await redis.exists(setKey)).toBe(0)
        expect(memory.liveLeases(setKey)).toBe(live().length)
      }),
      { numRuns: 120 },
    )
  }, 120_000)
})
