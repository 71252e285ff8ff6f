import { describe, expect, it } from 'vitest'
import { compareReports } from '../../src/compare.js'
import { buildReport } from '../../src/report.js'
import type { Sample } from '../../src/sample.js'
import { percentiles, perSecond, windowOf } from '../../src/stats.js'
import { formatComparison, formatTable } from '../../src/table.js'
import { fakeReport } from '../fixtures/runs.js'

const sample = (client: number, sentMs: number, receivedMs: number, status: number, instance?: string, limit?: number): Sample => ({
  client,
  sentMs,
  receivedMs,
  status,
  instance,
  limit,
})

describe('stats', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(percentiles(values)).toEqual({ p50: 50, p90: 90, p99: 99, max: 100 })
    expect(percentiles([7])).toEqual({ p50: 7, p90: 7, p99: 7, max: 7 })
    expect(percentiles([])).toEqual({ p50: 0, p90: 0, p99: 0, max: 0 })
  })

  it('spans the window from the first request sent to the last response received', () => {
    expect(windowOf([sample(0, 50, 60, 200), sample(0, 10, 4_000, 429), sample(0, 30, 100, 200)])).toEqual({ startMs: 10, endMs: 4_000 })
  })

  it('counts per second of the run, folding a late tail into the last second', () => {
    const window = { startMs: 0, endMs: 3_020 }
    const samples = [
      sample(0, 0, 10, 200),
      sample(0, 0, 999, 200),
      sample(0, 0, 1_000, 200),
      sample(0, 0, 1_500, 429),
      sample(0, 0, 3_010, 200),
    ]
    expect(perSecond(samples, window, 200, 3)).toEqual([2, 1, 1])
    expect(perSecond(samples, window, 429, 3)).toEqual([0, 1, 0])
  })
})

describe('buildReport', () => {
  it('counts per replica and per client, and judges each client against the bound', () => {
    const r = buildReport({
      scenario: 'many-clients',
      mode: 'shared',
      keyMode: 'ip',
      gatewayUrl: 'http://127.0.0.1:1',
      capacity: 2,
      refillPerSecond: 1,
      load: { clients: [{ label: 'a' }, { label: 'b' }], connectionsPerClient: 1, ratePerSecond: undefined },
      durationSeconds: 2,
      startedAt: new Date(0),
      samples: [
        sample(0, 0, 5, 200, 'replica-2'),
        sample(0, 5, 10, 200, 'replica-1'),
        sample(0, 10, 15, 429, 'replica-2'),
        sample(0, 1_000, 1_005, 200, 'replica-1'),
        // Answered from a local fallback bucket: a share of the capacity.
        sample(1, 0, 5, 200, 'replica-10', 1),
        sample(1, 5, 10, 200, 'replica-2'),
        sample(1, 10, 15, 502, undefined, Number.NaN),
        sample(1, 20, 2_000, 0),
      ],
    })
    expect(r.elapsedSeconds).toBe(2)
    expect(r.bound).toBe(4)
    expect(r.replicas).toEqual([
      { id: '(gateway)', requests: 1, admitted: 0, limited: 0 },
      { id: 'replica-1', requests: 2, admitted: 2, limited: 0 },
      { id: 'replica-2', requests: 3, admitted: 2, limited: 1 },
      { id: 'replica-10', requests: 1, admitted: 1, limited: 0 },
    ])
    // The full bucket, less a token that may have been refilling (a: denied once, so nothing
    // refilled between denials) or none (b: never denied), and less the one request each
    // client's connection may have had in flight at the end. b's local admission took nothing
    // from Redis: its bound is one higher.
    expect(r.clients.map((c) => [c.label, c.requests, c.admitted, c.limited, c.degradedAdmitted, c.bound, c.share, c.floor])).toEqual([
      ['a', 4, 3, 1, 0, 4, 0.75, 0],
      ['b', 4, 2, 0, 1, 5, 0.4, 1],
    ])
    expect(r.totals).toEqual({ requests: 8, admitted: 5, limited: 1, other: 1, errors: 1, degraded: 1, degradedAdmitted: 1 })
    expect(r.timeline.seconds).toBe(2)
    expect(r.timeline.replicas.find((x) => x.id === 'replica-1')).toEqual({ id: 'replica-1', admitted: [1, 1], limited: [0, 0] })
    expect(r.verdict).toMatchObject({ pass: true, withinBound: true, nearBound: true })
  })

  it('fails a saturated client admitted fewer than its bucket held until its last denial', () => {
    const r = buildReport({
      scenario: 'burst',
      mode: 'shared',
      keyMode: 'ip',
      gatewayUrl: 'http://127.0.0.1:1',
      capacity: 2,
      refillPerSecond: 1,
      load: { clients: [{ label: 'a' }], connectionsPerClient: 1, ratePerSecond: undefined },
      durationSeconds: 3,
      startedAt: new Date(0),
      // Denied at 25 ms, and again when sent at 3 s: the full bucket and 2.975 s of refill, less a
      // token refilling and one its connection may have had in flight at the end; 2 taken.
      samples: [sample(0, 0, 5, 200), sample(0, 20, 25, 429), sample(0, 1_500, 1_505, 200), sample(0, 3_000, 3_005, 429)],
    })
    expect(r.clients[0]!.floor).toBeCloseTo(2.975)
    expect(r.verdict).toMatchObject({ pass: false, withinBound: true, nearBound: false })
    expect(r.summary).toBe(
      'FAIL: a client got only 2 requests through, fewer than the 3 its bucket held for it from its first denial to its last: tokens were lost.',
    )
  })

  it('floors a never-refused client at what it asked, and says the run did not reach the limit', () => {
    const input = {
      scenario: 'many-clients',
      mode: 'shared',
      keyMode: 'ip',
      gatewayUrl: 'http://127.0.0.1:1',
      capacity: 100,
      refillPerSecond: 50,
      load: { clients: [{ label: 'a' }, { label: 'b' }], connectionsPerClient: 2, ratePerSecond: undefined },
      durationSeconds: 4,
      startedAt: new Date(0),
    } as const
    // A busy machine: 74 and 80 requests in 4 s, every one admitted; nobody was ever refused.
    const admittedAll = [
      ...Array.from({ length: 74 }, (_, i) => sample(0, i * 50, i * 50 + 40, 200)),
      ...Array.from({ length: 80 }, (_, i) => sample(1, i * 50, i * 50 + 40, 200)),
    ]
    const r = buildReport({ ...input, samples: admittedAll })
    expect(r.clients.map((c) => c.floor)).toEqual([74, 80])
    expect(r.verdict).toMatchObject({ pass: true, withinBound: true, nearBound: true })
    expect(r.summary).toMatch(/^PASS: no client went over its limit, but none was refused either \(not saturated\)/)
    // One client refused and short of its floor still fails: the floor is kept where a denial shows the bucket empty.
    const refused = buildReport({ ...input, samples: [...admittedAll, sample(1, 4_000, 4_010, 429)] })
    expect(refused.clients[1]!.floor).toBeGreaterThan(80)
    expect(refused.verdict).toMatchObject({ pass: false, nearBound: false })
  })

  it('says PASS in plain words when one client got the bound through three replicas', () => {
    const r = fakeReport({ admittedPerClient: 299 })
    expect(r.verdict.pass).toBe(true)
    expect(r.summary).toMatch(
      /^PASS: one client sent 600 requests through 3 replicas; 299 got through, 99\.\d% of the 300 that one bucket allows/,
    )
    expect(r.summary).toMatch(/The limit is global\.$/)
  })

  it('says FAIL when a client got more than one bucket allows', () => {
    const r = fakeReport({ admittedPerClient: 301 })
    expect(r.summary).toMatch(/^FAIL: a client got 301 requests through, 1\.0× the 300 .*not sharing one limit\.$/)
  })

  it('explains over-admission without Redis instead of failing it', () => {
    const r = fakeReport({ admittedPerClient: 897, perClient: 3_000, mode: 'local' })
    expect(r.summary).toMatch(
      /^WITHOUT A SHARED REDIS: a client got 897 requests through, 3\.0× the 300 .* each of the 3 replicas gave it a bucket of its own\.$/,
    )
  })

  it('prints a table a person can read', () => {
    const table = formatTable(fakeReport({ admittedPerClient: 299, clients: 2 }))
    expect(table).toContain('burst: one client bursting far past its limit')
    expect(table).toMatch(/replica-1\s+400\s+200\s+200/)
    expect(table).toMatch(/total\s+1,200\s+598\s+602/)
    expect(table).toContain('admitted per client, of at most 300 (100 + 50/s × 4.0 s) each: lowest 299 (99.7%), highest 299 (99.7%)')
    expect(table).toMatch(/latency {2}p50 2\.0 ms · p90 2\.0 ms · p99 2\.0 ms/)
    expect(table.split('\n').at(-1)).toMatch(/^ {2}PASS: 2 clients each got 99\.7% of the 300/)
  })
})

describe('compareReports', () => {
  it('pairs each saturating scenario with its local run', () => {
    const shared = fakeReport({ admittedPerClient: 297 })
    const local = fakeReport({ admittedPerClient: 891, perClient: 3_000, mode: 'local' })
    const steady = fakeReport({ scenario: 'steady', admittedPerClient: 100, perClient: 100 })
    const [c, ...rest] = compareReports([shared, steady, local, { ...steady, mode: 'local' }])
    expect(rest).toEqual([])
    expect(c!.scenario).toBe('burst')
    expect(c!.shared).toBeCloseTo(0.99)
    expect(c!.local).toBeCloseTo(2.97)
    expect(c!.factor).toBeCloseTo(3)
    expect(formatComparison([c!])).toMatch(/burst\s+99\.0%\s+297\.0%\s+3\.0× as much/)
  })
})
