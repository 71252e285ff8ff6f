export {
  admissionBound,
  admissionFloor,
  type ClientOutcome,
  type Interval,
  judge,
  MAX_STEADY_DENIED_SHARE,
  type Stalls,
  stalledDenials,
  type Verdict,
} from './bound.js'
export { boundFormula, degradedNote, runBound } from './bound-text.js'
export { lineChart, niceCeiling } from './chart.js'
export { type Comparison, compareReports } from './compare.js'
export { type HtmlExtras, renderHtml } from './html.js'
export { API_KEY_HEADER, DEFAULT_POLICY, DEGRADED_HEADER, KEY_MODES, type KeyMode } from './policy.js'
export { type LoadTestOptions, type Progress, runLoadTest, steadyRate } from './run.js'
export { answeredLocally, type Sample } from './sample.js'
export {
  SCENARIO_NAMES,
  SCENARIOS,
  type Scenario,
  type ScenarioName,
  type StoreMode,
} from './scenarios.js'
export { runSuite, type SuiteOptions } from './suite.js'
export { formatComparison, formatProgress, formatTable, progressLines } from './table.js'
export type { ClientIdentity, ClientStats, Load, ReplicaStats, Report } from './types.js'
export { writeHtmlReport } from './write-report.js'
