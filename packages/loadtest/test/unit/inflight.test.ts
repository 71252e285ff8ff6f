import { describe, expect, it } from 'vitest'
import { renderHtml } from '../../src/html.js'
import { inflightAllowance, judgeInflight, maxOverlap } from '../../src/inflight.js'
import { INFLIGHT_CONCURRENCY, type InflightEntry } from '../../src/policy.js'
import { buildReport } from '../../src/report.js'
import type { Sample } from '../../src/sample.js'
import { formatTable } from '../../src/table.js'

// The inflight scenario (issue 22): the replicas' logged intervals merged per client, their
// largest overlap against the in-flight limit n (plus local slots while degraded), and 429s
// naming a concurrent-requests policy whenever more than n were offered at once.

const N = INFLIGHT_CONCURRENCY
const KEY = '127.9.9.11'

function sample(sentMs: number, receivedMs: number, status: number, concurrent = status === 429): Sample {
  return { client: 0, sentMs, receivedMs, status, instance: 'replica-1', limit: N, degraded: false, ...(concurrent ? { concurrent } : {}) }
}

function entry(acquiredMs: number, releasedMs: number, replica = 'replica-1', degraded = false): InflightEntry {
  return { key: KEY, replica, acquiredMs, releasedMs, degraded }
}

function report(samples: Sample[], inflightLog: InflightEntry[]) {
  return buildReport({
    scenario: 'inflight',
    mode: 'shared',
    keyMode: 'ip',
    gatewayUrl: 'http://127.0.0.1:1',
    capacity: 100,
    refillPerSecond: 50,
    load: { clients: [{ label: KEY, localAddress: KEY }], connectionsPerClient: 8, ratePerSecond: undefined },
    durationSeconds: 1,
    startedAt: new Date(0),
    samples,
    inflightLog,
  })
}

describe('maxOverlap', () => {
  it('counts the most spans open at once; one ending as another starts does not overlap it', () => {
    expect(maxOverlap([])).toBe(0)
    expect(maxOverlap([{ startMs: 0, endMs: 10 }])).toBe(1)
    expect(
      maxOverlap([
        { startMs: 0, endMs: 10 },
        { startMs: 10, endMs: 20 },
        { startMs: 20, endMs: 30 },
      ]),
    ).toBe(1)
    expect(
      maxOverlap([
        { startMs: 0, endMs: 100 },
        { startMs: 5, endMs: 50 },
        { startMs: 40, endMs: 60 },
        { startMs: 55, endMs: 70 },
      ]),
    ).toBe(3)
  })
})

describe('inflightAllowance', () => {
  it('is n, plus every replica’s local share once some admission was degraded', () => {
    expect(inflightAllowance(3, 3, 0)).toBe(3)
    expect(inflightAllowance(3, 3, 1)).toBe(6)
    expect(inflightAllowance(5, 3, 2)).toBe(5 + 3 * 2)
  })
})

describe('judgeInflight', () => {
  const ok = { peak: 3, offered: 8, refused: 4, admitted: 10, logged: 10, allowed: 3 }
  it('passes at most n in flight, refused when more were offered, every admission logged', () => {
    expect(judgeInflight(ok, 3).pass).toBe(true)
    // Never more than n offered: no refusal is asked for.
    expect(judgeInflight({ ...ok, offered: 3, refused: 0 }, 3).pass).toBe(true)
  })
  it('fails above the allowance, without refusals when over, with a lost log, or with nothing admitted', () => {
    expect(judgeInflight({ ...ok, peak: 4 }, 3)).toMatchObject({ pass: false, withinLimit: false })
    expect(judgeInflight({ ...ok, refused: 0 }, 3)).toMatchObject({ pass: false, refusedWhenOver: false })
    expect(judgeInflight({ ...ok, logged: 9 }, 3)).toMatchObject({ pass: false, complete: false })
    expect(judgeInflight({ ...ok, admitted: 0, logged: 0 }, 3)).toMatchObject({ pass: false, served: false })
  })
})

describe('the inflight scenario’s report', () => {
  // Four connections at once: three admitted and held, one refused.
  const samples = [sample(0, 100, 200), sample(0, 100, 200), sample(0, 100, 200), sample(0, 2, 429), sample(100, 150, 200)]

  it('merges the replicas’ intervals per client and passes at n', () => {
    const r = report(samples, [
      entry(1, 99, 'replica-1'),
      entry(2, 98, 'replica-2'),
      entry(3, 97, 'replica-3'),
      entry(101, 149, 'replica-1'),
    ])
    const c = r.clients[0]!
    expect(c.inflight).toMatchObject({ peak: 3, offered: 4, refused: 1, admitted: 4, logged: 4, allowed: N })
    expect(c.admitted).toBe(3)
    expect(c.bound).toBe(N)
    expect(r.verdict.pass).toBe(true)
    // X-RateLimit-Limit is n on this route: a shared answer, not a degraded one.
    expect(r.totals.degraded).toBe(0)
    expect(r.summary).toMatch(/^PASS: at most 3 of a client's requests were in progress at once/)
  })

  it('fails when the merged intervals overlap more than n', () => {
    const r = report(samples, [
      entry(1, 99, 'replica-1'),
      entry(2, 98, 'replica-2'),
      entry(3, 97, 'replica-3'),
      entry(50, 149, 'replica-1'),
    ])
    expect(r.clients[0]!.inflight!.peak).toBe(4)
    expect(r.verdict.pass).toBe(false)
    expect(r.summary).toMatch(/^FAIL: 127\.9\.9\.11 had 4 in progress, above 3/)
  })

  it('allows the local slots when some admissions were degraded, and fails without the replicas’ logs', () => {
    const r = report(samples, [entry(1, 99), entry(2, 98), entry(3, 97, 'replica-1', true), entry(50, 149, 'replica-2', true)])
    expect(r.clients[0]!.inflight!.allowed).toBe(N + 2 * Math.ceil(N / 2))
    expect(r.verdict.pass).toBe(true)
    const unlogged = report(samples, [])
    expect(unlogged.verdict.pass).toBe(false)
    expect(unlogged.summary).toMatch(/only 0 of 127\.9\.9\.11's 4 admitted requests were logged/)
  })

  it('says the peak per client in the table and the HTML report, with no token bucket’s line', () => {
    const r = report(samples, [
      entry(1, 99, 'replica-1'),
      entry(2, 98, 'replica-2'),
      entry(3, 97, 'replica-3'),
      entry(101, 149, 'replica-1'),
    ])
    expect(formatTable(r)).toContain(
      `${KEY} held at most 3 at once of 3 (offered 4, 1 refused with a concurrent-requests 429, 4 intervals logged)`,
    )
    const html = renderHtml(r)
    expect(html).toContain('in flight, merged from the replicas')
    expect(html).not.toContain('against what one bucket allows')
  })
})
