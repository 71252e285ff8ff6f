import { describe, expect, it } from 'vitest'
import { admissionBound, admissionFloor } from '../../src/bound.js'
import { degradedNote, runBound } from '../../src/bound-text.js'
import { renderHtml } from '../../src/html.js'
import { buildReport } from '../../src/report.js'
import { answeredLocally, type Sample, sampleHeaders } from '../../src/sample.js'
import { formatTable } from '../../src/table.js'
import type { ReportInput } from '../../src/types.js'

/**
 * Degraded admissions (answered 200 from a replica's local fallback bucket while Redis was slow or
 * unreachable) took nothing from the shared bucket: each raises its own client's bound by one,
 * and the report says how many it counted and how the bound was computed.
 */

const CAPACITY = 10
const REFILL = 1

/** One request every 10 ms from `fromMs`, answered 2 ms later. */
function run(client: number, fromMs: number, statuses: readonly number[], degraded: boolean): Sample[] {
  return statuses.map((status, i) => ({
    client,
    sentMs: fromMs + i * 10,
    receivedMs: fromMs + i * 10 + 2,
    status,
    instance: `replica-${(i % 3) + 1}`,
    // A local answer advertises the replica's share; the demo's replicas also say so outright.
    limit: degraded ? Math.ceil(CAPACITY / 3) : CAPACITY,
    degraded,
  }))
}

const times = (n: number, status: number): number[] => Array.from({ length: n }, () => status)

function report(samples: readonly Sample[], clients = 1): ReturnType<typeof buildReport> {
  const input: ReportInput = {
    scenario: clients === 1 ? 'burst' : 'many-clients',
    mode: 'shared',
    keyMode: 'api-key',
    gatewayUrl: 'http://127.0.0.1:1',
    capacity: CAPACITY,
    refillPerSecond: REFILL,
    load: {
      clients: Array.from({ length: clients }, (_, i) => ({ label: `key-${i}` })),
      connectionsPerClient: 1,
      ratePerSecond: undefined,
    },
    durationSeconds: 1,
    startedAt: new Date(0),
    samples,
  }
  return buildReport(input)
}

describe('admissionBound with degraded admissions', () => {
  it('adds one per degraded admission to capacity + refill × elapsed', () => {
    expect(admissionBound(100, 50, 4, 0)).toBe(300)
    expect(admissionBound(100, 50, 4, 12)).toBe(312)
    expect(admissionBound(10, 0.5, 3, 1)).toBe(12.5)
  })
})

describe('admissionFloor with degraded time', () => {
  it('does not count what refilled while the client was answered locally', () => {
    expect(admissionFloor(100, 50, 3.9, 1, 0)).toBe(293)
    // 1 s of the 3.9 s between denials answered locally: 50 tokens fewer are promised.
    expect(admissionFloor(100, 50, 3.9, 1, 1)).toBe(243)
    // Degraded longer than the denials lasted: no refill is promised, the full bucket still is.
    expect(admissionFloor(100, 50, 1, 1, 5)).toBe(98)
  })
})

describe('answeredLocally', () => {
  it("believes the replica's header, else an X-RateLimit-Limit that is not the capacity", () => {
    const base: Sample = { client: 0, sentMs: 0, receivedMs: 1, status: 200, instance: 'r', limit: 10 }
    expect(answeredLocally(base, 10)).toBe(false)
    expect(answeredLocally({ ...base, degraded: true }, 10)).toBe(true)
    expect(answeredLocally({ ...base, limit: 4 }, 10)).toBe(true)
    expect(answeredLocally({ ...base, limit: Number.NaN }, 10)).toBe(false)
    // No answer at all: nothing was admitted, locally or not.
    expect(answeredLocally({ ...base, status: 0, degraded: true }, 10)).toBe(false)
  })

  it('reads the header the demo replicas send', () => {
    const headers = (values: Record<string, string>) => sampleHeaders((name) => values[name])
    expect(headers({ 'x-sluice-degraded': 'true', 'x-ratelimit-limit': '10' }).degraded).toBe(true)
    expect(headers({ 'x-ratelimit-limit': '10' }).degraded).toBe(false)
  })
})

describe('a run with degraded admissions', () => {
  // The full bucket from Redis, then 5 local admissions while Redis was paused, then denials.
  const base = [...run(0, 0, times(CAPACITY, 200), false), ...run(0, 200, times(5, 200), true), ...run(0, 400, times(20, 429), false)]

  it('passes a client admitted exactly capacity + refill × t + its degraded admissions', () => {
    const r = report(base)
    const c = r.clients[0]!
    expect(c.degradedAdmitted).toBe(5)
    expect(r.totals.degradedAdmitted).toBe(5)
    expect(c.bound).toBeCloseTo(r.bound + 5)
    // Admitted 15 in 0.592 s: the shared bucket allows 10.592, the local buckets gave 5 more.
    expect(r.bound).toBeCloseTo(CAPACITY + REFILL * 0.592)
    expect(r.verdict).toMatchObject({ withinBound: true })
  })

  it('fails a client admitted one more from Redis than that', () => {
    // One more shared admission: 11 from a bucket that could give 10.6.
    const r = report([...run(0, 0, times(CAPACITY + 1, 200), false), ...base.slice(CAPACITY)])
    expect(r.clients[0]!.admitted).toBeGreaterThan(r.clients[0]!.bound)
    expect(r.verdict).toMatchObject({ pass: false, withinBound: false })
    expect(r.summary).toMatch(/^FAIL: a client got 16 requests through/)
  })

  it("counts each client's degraded admissions into its own bound only", () => {
    // key-1 had no degraded answers: key-0's do not raise its bound.
    const other = [...run(1, 0, times(CAPACITY + 5, 200), false), ...run(1, 400, times(20, 429), false)]
    const r = report([...base, ...other], 2)
    expect(r.clients.map((c) => c.degradedAdmitted)).toEqual([5, 0])
    expect(r.clients[1]!.bound).toBe(r.bound)
    expect(r.verdict.withinBound).toBe(false)
  })

  it('takes the floor window from shared denials only: a local denial says nothing about the shared bucket', () => {
    // A local 429 long before the shared ones would otherwise stretch the window and raise the floor.
    const r = report([...run(0, 0, times(CAPACITY, 200), false), ...run(0, 100, [429], true), ...run(0, 400, times(3, 429), false)])
    expect(r.clients[0]!.floor).toBeCloseTo(admissionFloor(CAPACITY, REFILL, 0.02, 1, 0.002))
  })

  it('says how many degraded admissions the bound includes, and how it was computed', () => {
    const r = report(base)
    const sum = /^15 \(10 \+ 1\/s × 0\.6 s \+ 5 degraded admissions\)/
    expect(runBound(r)).toMatch(sum)
    expect(r.summary).toMatch(/^PASS: .*of the 15 it may get in 0\.6 s \(10 \+ 1\/s × 0\.6 s \+ 5 degraded admissions\)/)
    expect(degradedNote(r)).toBe(
      "5 answers came from a replica's local fallback bucket (Redis was too slow or unreachable); the 5 degraded admissions took nothing from Redis, so each adds one to its client's bound (key-0 5).",
    )
    const table = formatTable(r)
    expect(table).toContain('5 degraded admissions')
    expect(table).toContain(degradedNote(r)!)
    const html = renderHtml(r)
    expect(html).toContain('5 degraded admissions')
    expect(html).toContain('each adds one to its client')
    expect(html).toContain('degraded admissions come on top of the line')
  })

  it('says nothing of degraded admissions when there were none', () => {
    const r = report([...run(0, 0, times(CAPACITY, 200), false), ...run(0, 400, times(3, 429), false)])
    expect(degradedNote(r)).toBeUndefined()
    expect(formatTable(r)).not.toContain('degraded')
    expect(r.summary).not.toContain('degraded')
  })
})
