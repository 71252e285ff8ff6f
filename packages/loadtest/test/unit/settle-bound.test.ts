import { describe, expect, it } from 'vitest'
import { settledBound } from '../../src/bound.js'
import { streamReservation } from '../../src/policy.js'
import { buildReport } from '../../src/report.js'
import type { Sample } from '../../src/sample.js'

// The settle scenario (issue 21): a client's streamed tokens, each answer settled after it ends,
// judged against capacity + refill × t + connections × the largest overshoot + degraded tokens.

const CAPACITY = 10
const REFILL = 1

function answer(sentMs: number, status: number, tokens: number | undefined, degraded = false): Sample {
  return {
    client: 0,
    sentMs,
    receivedMs: sentMs + 2,
    status,
    instance: 'replica-1',
    limit: CAPACITY,
    degraded,
    ...(tokens === undefined ? {} : { tokens }),
  }
}

function report(samples: Sample[]) {
  return buildReport({
    scenario: 'settle',
    mode: 'shared',
    keyMode: 'ip',
    gatewayUrl: 'http://127.0.0.1:1',
    capacity: CAPACITY,
    refillPerSecond: REFILL,
    load: { clients: [{ label: '127.9.9.11' }], connectionsPerClient: 2, ratePerSecond: undefined },
    durationSeconds: 2,
    startedAt: new Date(0),
    samples,
  })
}

describe('settledBound', () => {
  it('is the bucket’s bound plus one overshoot per connection, plus degraded tokens', () => {
    expect(settledBound(100, 50, 4, 2, 50)).toBe(400)
    expect(settledBound(100, 50, 4, 2, 50, 7)).toBe(407)
    // No overshoot (every answer within its reservation): the bucket's own bound.
    expect(settledBound(100, 50, 4, 2, -3)).toBe(300)
  })

  it('reserves half the capacity, so two connections stay within the debt cap', () => {
    expect(streamReservation(100)).toBe(50)
    expect(streamReservation(7)).toBe(4)
    expect(2 * (100 - streamReservation(100))).toBeLessThanOrEqual(100)
  })
})

describe('the settle scenario’s report', () => {
  it('counts tokens received, and passes within the bound', () => {
    // Over 2 s: 10 + 1 × 2 = 12, and overshoots of up to 10 − 5 = 5 tokens on 2 connections.
    const r = report([answer(0, 200, 10), answer(500, 200, 6), answer(1000, 429, undefined), answer(1998, 200, 3)])
    expect(r.clients[0]!.admitted).toBe(19)
    expect(r.clients[0]!.bound).toBe(22)
    expect(r.verdict.pass).toBe(true)
    expect(r.summary).toMatch(/^PASS: a client received 19 tokens of streamed answers/)
  })

  it('fails a client that received more than its bound, and counts degraded tokens into it', () => {
    const over = report([answer(0, 200, 10), answer(500, 200, 10), answer(1000, 200, 10), answer(1998, 200, 10)])
    expect(over.clients[0]!.admitted).toBe(40)
    expect(over.verdict.pass).toBe(false)
    expect(over.summary).toMatch(/^FAIL:/)
    const degraded = report([answer(0, 200, 10), answer(500, 200, 10, true), answer(1998, 200, 3)])
    expect(degraded.clients[0]!.degradedAdmitted).toBe(10)
    expect(degraded.clients[0]!.bound).toBe(32)
  })
})
