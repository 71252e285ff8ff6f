import type { Report } from '@sluice/loadtest'
import { INFLIGHT_CONCURRENCY } from '@sluice/loadtest/policy'
import { expect } from 'vitest'

/**
 * The inflight scenario's checks, from what each client offered: never more in progress at once
 * than n (plus the local slots its degraded admissions allow), a concurrent-requests 429
 * whenever it had more than n requests out at once, and every admitted request's interval logged.
 * A busy machine only lowers what is offered: no floor asks for a peak.
 */
export function expectInflightLimit(report: Report): void {
  expect(report.clients.length).toBeGreaterThan(0)
  for (const c of report.clients) {
    const o = c.inflight!
    expect(o.admitted).toBeGreaterThan(0)
    expect(o.logged).toBeGreaterThanOrEqual(o.admitted)
    expect(o.peak).toBeGreaterThan(0)
    expect(o.peak).toBeLessThanOrEqual(o.allowed)
    if (o.allowed === o.peak && o.allowed > INFLIGHT_CONCURRENCY)
      expect(report.totals.degradedAdmitted + report.totals.degraded).toBeGreaterThan(0)
    if (o.offered > INFLIGHT_CONCURRENCY) expect(o.refused).toBeGreaterThan(0)
  }
  expect(report.verdict.pass).toBe(true)
}
