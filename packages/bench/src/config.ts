import { SCENARIO_NAMES, type ScenarioName } from './scenarios.js'

/** Everything a benchmark run depends on; printed with the results. */
export interface BenchConfig {
  /** Seconds of load per run. */
  readonly seconds: number
  /** Interleaved rounds: each target runs once per round. */
  readonly rounds: number
  readonly connections: number
  /** Seconds of unmeasured load per target before round 1 (JIT, connection pools). */
  readonly warmupSeconds: number
  /** Distinct clients in the rotating-keys scenario. */
  readonly rotatingKeys: number
  /** Keys created per library to measure memory per idle key. */
  readonly memoryKeys: number
  readonly scenarios: readonly ScenarioName[]
  readonly smoke: boolean
}

export const DEFAULT_CONFIG: BenchConfig = Object.freeze({
  seconds: 3,
  rounds: 6,
  connections: 50,
  warmupSeconds: 2,
  rotatingKeys: 10_000,
  memoryKeys: 100_000,
  scenarios: SCENARIO_NAMES,
  smoke: false,
})

/** One short round of everything: proves the harness works, says nothing about speed. */
export const SMOKE_CONFIG: BenchConfig = Object.freeze({
  ...DEFAULT_CONFIG,
  seconds: 1,
  rounds: 1,
  warmupSeconds: 0,
  memoryKeys: 1_000,
  smoke: true,
})
