import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../../src/errors.js'
import {
  assertEncodable,
  COST_LIMIT,
  checkOp,
  decodeBatch,
  encodeBatch,
  leaseOp,
  MAX_BUCKETS_PER_CHECK,
  OpKinds,
  settleOp,
} from '../../src/scripts/wire.js'
import type { BucketPolicy, CheckRequest, WireOp } from '../../src/types.js'

// The packed layout of token-bucket.ts, number by number: what the script reads.

const perSecond: BucketPolicy = Object.freeze({ capacity: 10, intervalNs: 100_000_000, shadow: false })
const perMinute: BucketPolicy = Object.freeze({ capacity: 60, intervalNs: 1_000_000_000, shadow: true })
const DEADLINE = 1_764_000_000_123_456

function check(keys: string[], policies: BucketPolicy[], cost = 1, dryRun?: boolean): CheckRequest {
  return dryRun === undefined ? { keys, policies, cost } : { keys, policies, cost, dryRun }
}

const encodeChecks = (checks: readonly CheckRequest[], deadlineUs: number) => encodeBatch(checks.map(checkOp), deadlineUs)
const decodeChecks = (raw: unknown, checks: readonly CheckRequest[]) => decodeBatch(raw, checks.map(checkOp))

function code(f: () => unknown): string | undefined {
  try {
    f()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('encodeBatch', () => {
  it('sends one check of one bucket as four arguments: deadline, interval, capacity, head', () => {
    expect(encodeChecks([check(['a'], [perSecond], 3)], DEADLINE)).toEqual({
      keys: ['a'],
      args: [DEADLINE, 100_000_000, 10, 3 * 256 + 1],
    })
    // A shadow policy's capacity is negated; a dry run is kind 1: 32 in the head.
    expect(encodeChecks([check(['a'], [perMinute], 2, true)], 0).args).toEqual([0, 1_000_000_000, -60, 2 * 256 + 32 + 1])
  })

  it('sends a batch as shapes, then each check as its head and one reference per bucket', () => {
    const { keys, args } = encodeChecks(
      [check(['a'], [perSecond]), check(['b', 'a'], [perMinute, perSecond], 5), check(['b'], [perMinute], 1, true)],
      DEADLINE,
    )
    expect(keys).toEqual(['a', 'b'])
    const K = 2
    expect(args).toEqual([
      DEADLINE,
      2,
      100_000_000,
      10,
      1_000_000_000,
      -60,
      // check 1: cost 1, one bucket: key 1 (a), shape 1
      256 + 1,
      0 * K + 1,
      // check 2: cost 5, two buckets: key 2 (b) shape 2, key 1 (a) shape 1
      5 * 256 + 2,
      1 * K + 2,
      0 * K + 1,
      // check 3: dry run, key 2 (b), shape 2
      256 + 32 + 1,
      1 * K + 2,
    ])
  })

  it('sends each distinct key and shape once; an equal shape under another object is a shape of its own', () => {
    const copy = { ...perSecond }
    const { keys, args } = encodeChecks([check(['a'], [perSecond]), check(['a'], [perSecond]), check(['a'], [copy])], 0)
    expect(keys).toEqual(['a'])
    expect(args).toEqual([0, 2, 100_000_000, 10, 100_000_000, 10, 257, 1, 257, 1, 257, 2])
  })

  it('uses the batch layout for several checks of one key, and for one check of several buckets', () => {
    expect(encodeChecks([check(['a'], [perSecond]), check(['a'], [perSecond])], 0).args).toEqual([0, 1, 100_000_000, 10, 257, 1, 257, 1])
    expect(encodeChecks([check(['a', 'b'], [perSecond, perSecond])], 0).args).toEqual([0, 1, 100_000_000, 10, 258, 1, 2])
  })

  it('carries the largest cost and bucket count exactly', () => {
    const keys = Array.from({ length: MAX_BUCKETS_PER_CHECK }, (_, i) => `k${i}`)
    const { args } = encodeChecks(
      [
        check(
          keys,
          keys.map(() => perSecond),
          COST_LIMIT - 1,
        ),
      ],
      0,
    )
    const head = args[4] as number
    expect(Number.isSafeInteger(head)).toBe(true)
    expect(head % 32).toBe(MAX_BUCKETS_PER_CHECK)
    expect(Math.floor(head / 256)).toBe(COST_LIMIT - 1)
    expect(Math.floor(head / 32) % 8).toBe(OpKinds.check)
  })

  it('refuses, with ERR_SLUICE_INVALID_ARGUMENT, a check the format cannot carry', () => {
    const many = Array.from({ length: MAX_BUCKETS_PER_CHECK + 1 }, (_, i) => `k${i}`)
    const refused: CheckRequest[] = [
      check(
        many,
        many.map(() => perSecond),
      ),
      check([], []),
      check(['a', 'b'], [perSecond]),
      check(['a'], [perSecond], COST_LIMIT),
      check(['a'], [perSecond], 0),
      check(['a'], [perSecond], 1.5),
      check(['a'], [perSecond], Number.NaN),
    ]
    for (const r of refused) {
      expect(code(() => assertEncodable(r))).toBe(ErrorCodes.INVALID_ARGUMENT)
      expect(code(() => encodeChecks([check(['ok'], [perSecond]), r], 0))).toBe(ErrorCodes.INVALID_ARGUMENT)
    }
  })
})

describe('operation kinds', () => {
  const settle = (delta: number): WireOp => settleOp({ keys: ['a'], policies: [perSecond], delta })

  it('carries the kind in bits 5–7 of the head: check 0, peek 1, extra charge 2, refund 3, slots 4, renew 5, release 6', () => {
    expect(OpKinds).toEqual({ check: 0, peek: 1, charge: 2, refund: 3, slots: 4, renew: 5, release: 6 })
    expect(encodeBatch([settle(4)], 0).args).toEqual([0, 100_000_000, 10, 4 * 256 + 2 * 32 + 1])
    expect(encodeBatch([settle(-3)], 0).args).toEqual([0, 100_000_000, 10, 3 * 256 + 3 * 32 + 1])
    // A settle joins a batch of checks like any operation.
    expect(encodeBatch([checkOp(check(['a'], [perSecond], 2)), settle(-1)], 0).args).toEqual([
      0,
      1,
      100_000_000,
      10,
      2 * 256 + 1,
      1,
      256 + 3 * 32 + 1,
      1,
    ])
  })

  it('sends a check with slots as kind 4: its buckets, then m and per slot (key, limit, leaseMs, lease id)', () => {
    const slot = { key: 'c', limit: 3, leaseMs: 1_000, leaseId: '4503599627370497' }
    // An in-flight limit alone: no bucket, never the one-bucket layout.
    expect(encodeBatch([checkOp({ keys: [], policies: [], cost: 1, slots: [slot] })], 0)).toEqual({
      keys: ['c'],
      args: [0, 0, 256 + 4 * 32 + 0, 1, 1, 3, 1_000, '4503599627370497'],
    })
    const both = encodeBatch([checkOp({ keys: ['a'], policies: [perSecond], cost: 2, slots: [slot] })], 0)
    expect(both).toEqual({ keys: ['c', 'a'], args: [0, 1, 100_000_000, 10, 2 * 256 + 4 * 32 + 1, 2, 1, 1, 3, 1_000, slot.leaseId] })
    // Renew (magnitude: leaseMs) and release, one lease each: its set's key and its id.
    const lease = { key: 'c', leaseId: '7', leaseMs: 1_000 }
    expect(encodeBatch([leaseOp({ op: 'renew', lease }), leaseOp({ op: 'release', lease })], 0).args).toEqual([
      0,
      0,
      1_000 * 256 + 5 * 32 + 1,
      1,
      '7',
      6 * 32 + 1,
      1,
      '7',
    ])
  })

  it('reads slots as live leases before the check, and lease ops as 1 or 0', () => {
    const slot = { key: 'c', limit: 2, leaseMs: 1_000, leaseId: '1' }
    const op = checkOp({ keys: ['a'], policies: [perSecond], cost: 1, slots: [slot] })
    const [free] = decodeBatch([1, 100_000_000, 1], [op]).steps
    expect(free!.reply).toMatchObject({ admitted: true, buckets: [{ taken: true }], slots: [{ status: 'allowed', taken: true, free: 0 }] })
    const [full] = decodeBatch([1, 0, -1 - 2], [op]).steps
    expect(full!.reply).toMatchObject({
      admitted: false,
      buckets: [{ taken: false, remaining: 10 }],
      slots: [{ status: 'denied', taken: false, free: 0 }],
    })
    expect(code(() => decodeBatch([1, 0, 2], [op]))).toBe(ErrorCodes.STORE_REPLY)
    const lease = leaseOp({ op: 'renew', lease: { key: 'c', leaseId: '1', leaseMs: 1_000 } })
    expect(decodeBatch([1, 1, 0], [lease, lease]).steps.map((s) => s.reply.admitted)).toEqual([true, false])
    expect(code(() => decodeBatch([1, 2], [lease]))).toBe(ErrorCodes.STORE_REPLY)
  })

  it('refuses a kind outside 0–7 and a magnitude of 0', () => {
    const op = settle(1)
    expect(code(() => assertEncodable({ ...op, kind: 8 }))).toBe(ErrorCodes.INVALID_ARGUMENT)
    expect(code(() => assertEncodable({ ...op, magnitude: 0 }))).toBe(ErrorCodes.INVALID_ARGUMENT)
    expect(code(() => assertEncodable({ ...op, kind: 7 }))).toBeUndefined()
  })

  it('reads a settle reply as the debt after it, and a refusal from a settle as malformed', () => {
    const { steps } = decodeBatch([1, 1_500_000_000], [settle(5)])
    expect(steps[0]!.debtsNs).toEqual([1_500_000_000])
    // 15 tokens short of full, 10 a window: in debt, told 0 remaining, full in 1.5 s.
    expect(steps[0]!.reply.buckets[0]).toMatchObject({ remaining: 0, resetMs: 1_500, taken: false })
    expect(code(() => decodeBatch([1, -1], [settle(5)]))).toBe(ErrorCodes.STORE_REPLY)
  })
})

describe('decodeBatch', () => {
  const TIME = 1_764_000_000_654_321

  it('reads a reply of Redis time alone as a batch that did not run', () => {
    expect(decodeChecks([TIME], [check(['a'], [perSecond])])).toEqual({ redisTimeUs: TIME, ran: false, steps: [] })
  })

  it('reads a debt as affordable, −1 − debt as not, and a cost above the capacity as never', () => {
    const checks = [check(['a'], [perSecond]), check(['a'], [perSecond]), check(['b'], [perSecond], 11)]
    const { redisTimeUs, ran, steps } = decodeChecks([TIME, 250_000_000, -1 - 950_000_000, -1 - 0], checks)
    expect({ redisTimeUs, ran }).toEqual({ redisTimeUs: TIME, ran: true })
    expect(steps.map((s) => s.debtsNs)).toEqual([[250_000_000], [950_000_000], [0]])
    expect(steps.map((s) => s.reply.buckets[0]!.status)).toEqual(['allowed', 'denied', 'cost-exceeds-capacity'])
    expect(steps.map((s) => s.reply.admitted)).toEqual([true, false, false])
    // 250 ms of debt at 100 ms a token: 7 whole tokens left of 10.
    expect(steps[0]!.reply.buckets[0]).toMatchObject({ taken: true, remaining: 7 })
    expect(steps[1]!.reply.buckets[0]).toMatchObject({ taken: false, remaining: 0 })
  })

  it('admits a check whose only short bucket is a shadow one, and says it did not pay there', () => {
    const { steps } = decodeChecks([TIME, 100_000_000, -1 - 60_000_000_000], [check(['a', 'b'], [perSecond, perMinute])])
    expect(steps[0]!.reply.admitted).toBe(true)
    expect(steps[0]!.reply.buckets.map((b) => [b.status, b.taken])).toEqual([
      ['allowed', true],
      ['denied', false],
    ])
  })

  it('refuses a malformed reply with ERR_SLUICE_STORE_REPLY', () => {
    const one = [check(['a'], [perSecond])]
    for (const raw of [null, [], ['1'], [TIME, 1, 2], [TIME, 'x']]) {
      expect(
        code(() => decodeChecks(raw, one)),
        JSON.stringify(raw),
      ).toBe(ErrorCodes.STORE_REPLY)
    }
    // Two checks, one value: short.
    expect(code(() => decodeChecks([TIME, 1], [...one, ...one]))).toBe(ErrorCodes.STORE_REPLY)
    // A cost above the capacity can never read as affordable.
    expect(code(() => decodeChecks([TIME, 0], [check(['a'], [perSecond], 11)]))).toBe(ErrorCodes.STORE_REPLY)
  })
})
