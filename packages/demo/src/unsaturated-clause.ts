import { type Report, SCENARIOS } from '@sluice/loadtest'

/**
 * The demo's verdict says when a scenario meant to push clients past their limit did not: on a
 * busy machine the load generator may offer a client less than its bucket holds, and a client
 * never refused shows only that nothing went over, not the limit at work. Undefined when every
 * such client was refused at least once.
 */
export function unsaturatedClause(reports: readonly Report[]): string | undefined {
  const short = reports
    .filter((r) => r.mode === 'shared' && r.saturating && SCENARIOS[r.scenario].measure === 'requests')
    .map((r) => ({ scenario: r.scenario, never: r.clients.filter((c) => c.limited === 0).length, of: r.clients.length }))
    .filter((s) => s.never > 0)
  if (short.length === 0) return undefined
  const parts = short.map((s) => `${s.scenario}: ${s.never} of ${s.of} client${s.of === 1 ? '' : 's'}`)
  return `Not every client was pushed past its limit (${parts.join('; ')} never refused): this machine offered them less than their buckets hold, so for them the run shows that nothing went over, not the limit at work.`
}
