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
 * The token bucket's own bounds for every client of a run: at most capacity + refill × elapsed,
 * at least its floor when saturated (the full bucket and what refilled between its denials),
 * with no errors and no answer from a local fallback bucket.
 */
export function expectGlobalLimit(report: Report): void {
  expect(report.totals.errors).toBe(0)
  expect(report.totals.degraded).toBe(0)
  for (const client of report.clients) {
    expect(client.admitted).toBeLessThanOrEqual(report.bound)
    expect(client.admitted).toBeGreaterThanOrEqual(client.floor)
  }
}
