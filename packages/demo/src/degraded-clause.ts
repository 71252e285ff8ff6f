import type { Report } from '@sluice/loadtest'

/**
 * The demo's verdict says when its bound counted degraded admissions, and how: requests a replica
 * admitted from its local fallback bucket while Redis was too slow or unreachable took nothing from
 * Redis, so each raised its client's bound (capacity + refill × elapsed) by one. Undefined when
 * every answer came from Redis.
 */
export function degradedClause(reports: readonly Report[]): string | undefined {
  const admitted = reports.reduce((n, r) => n + r.totals.degradedAdmitted, 0)
  const answers = reports.reduce((n, r) => n + r.totals.degraded, 0)
  if (answers === 0) return undefined
  const some = `${answers} answer${answers === 1 ? '' : 's'} came from the replicas' local fallback buckets (Redis was too slow or unreachable)`
  if (admitted === 0) return `${some}; none admitted a request, so every bound is capacity + refill × elapsed.`
  return (
    `${some}: the bounds above include those ${admitted} degraded admission${admitted === 1 ? '' : 's'}, ` +
    "each counted to its own client's capacity + refill × elapsed, since it took nothing from Redis."
  )
}
