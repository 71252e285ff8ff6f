import type { Report } from '@sluice/loadtest'
import { expect } from 'vitest'

/**
 * The token bucket's own bounds for every client of a run: at most capacity + refill × elapsed,
 * at least 95% of it when saturated, with no errors and no answer from a local fallback bucket.
 */
export function expectGlobalLimit(report: Report): void {
  expect(report.totals.errors).toBe(0)
  expect(report.totals.degraded).toBe(0)
  for (const client of report.clients) {
    expect(client.admitted).toBeLessThanOrEqual(report.bound)
    expect(client.admitted).toBeGreaterThanOrEqual(0.95 * report.bound)
  }
}
