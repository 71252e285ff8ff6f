import { type LoadTestOptions, runLoadTest } from './run.js'
import type { ScenarioName } from './scenarios.js'
import type { Report } from './types.js'

export interface SuiteOptions extends Omit<LoadTestOptions, 'scenario'> {
  readonly scenarios: readonly ScenarioName[]
  /** Called when a scenario starts. */
  readonly onScenario?: (scenario: ScenarioName) => void
}

/** Run scenarios one after another against the same gateway; stops early when aborted. */
export async function runSuite(options: SuiteOptions): Promise<Report[]> {
  const reports: Report[] = []
  for (const scenario of options.scenarios) {
    if (options.signal?.aborted === true) break
    options.onScenario?.(scenario)
    reports.push(await runLoadTest({ ...options, scenario }))
  }
  return reports
}
