import type { ScenarioName } from './scenarios.js'
import type { Report } from './types.js'

/** One scenario run twice: replicas sharing Redis, then each on its own. */
export interface Comparison {
  readonly scenario: ScenarioName
  /** The most any client got, as a share of what one global limit allows. */
  readonly shared: number
  readonly local: number
  /** local ÷ shared */
  readonly factor: number
}

/** Pair the shared and local runs of each saturating scenario (steady runs never reach the limit). */
export function compareReports(reports: readonly Report[]): Comparison[] {
  const comparisons: Comparison[] = []
  for (const shared of reports) {
    if (shared.mode !== 'shared' || !shared.saturating) continue
    const local = reports.find((r) => r.mode === 'local' && r.scenario === shared.scenario)
    if (local === undefined) continue
    const s = shared.verdict.highestShare
    const l = local.verdict.highestShare
    comparisons.push({ scenario: shared.scenario, shared: s, local: l, factor: s > 0 ? l / s : Number.POSITIVE_INFINITY })
  }
  return comparisons
}
