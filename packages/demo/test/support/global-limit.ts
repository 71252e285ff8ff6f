import type { Report } from '@sluice/loadtest'
import { expect } from 'vitest'

/**
 * The Redis time budget for clusters whose answers must all come from Redis while it is up: with
 * Sluice's 100 ms default a busy machine now and then answers a request locally, so "no local
 * answers" would be a claim about this machine's speed. No store call on a healthy local Redis
 * takes two seconds.
 */
export const SHARED_BUDGET_MS = 2_000

/**
 * The token bucket's own bounds for every client of a run: at most capacity + refill × elapsed
 * plus its degraded admissions (each answered from a local fallback bucket, taking nothing from
 * Redis), and at least its floor when saturated (the full bucket and what refilled between its
 * shared denials), with no errors. A client that was offered more than its bound was denied.
 */
export function expectGlobalLimit(report: Report): void {
  expect(report.totals.errors).toBe(0)
  for (const client of report.clients) {
    expect(client.admitted - client.degradedAdmitted).toBeLessThanOrEqual(report.bound)
    expect(client.admitted).toBeLessThanOrEqual(client.bound)
    expect(client.admitted).toBeGreaterThanOrEqual(client.floor)
  }
  expectDeniedWhereOffered(report)
}

/**
 * 429s only where the load offered more than a bound: a client answered more often than its
 * bound allows, or (with one client) a replica that alone answered more than the client's whole
 * bound, must have denied some. How much load a busy machine offers is not asserted.
 */
export function expectDeniedWhereOffered(report: Report): void {
  for (const client of report.clients) {
    if (client.admitted + client.limited > client.bound) expect(client.limited, client.label).toBeGreaterThan(0)
  }
  const [only] = report.clients
  if (report.clients.length !== 1 || only === undefined) return
  for (const replica of report.replicas) {
    if (replica.admitted + replica.limited > only.bound) expect(replica.limited, replica.id).toBeGreaterThan(0)
  }
}

/** Requests a burst keeps in flight: a replica may have answered them after the load test stopped counting. */
export const BURST_IN_FLIGHT = 8

/**
 * The replicas' own count of local answers (sluice_requests_total by source) against the
 * responses': every degraded response counted, and at most the in-flight requests more.
 */
export function expectLocalAnswersAgree(scrapedLocal: number | undefined, report: Report, inFlight = BURST_IN_FLIGHT): void {
  expect(scrapedLocal ?? 0).toBeGreaterThanOrEqual(report.totals.degraded)
  expect(scrapedLocal ?? 0).toBeLessThanOrEqual(report.totals.degraded + inFlight)
}
