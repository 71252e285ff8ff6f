import { SCENARIO_NAMES, type ScenarioName } from './scenarios.js'

/** The benchmark's parts: each can run on its own (`--only`). */
export const BENCH_PARTS = ['cpu', 'throughput', 'memory'] as const
export type BenchPart = (typeof BENCH_PARTS)[number]

/** How one part loads its targets. */
export interface LoadPlan {
  /** Seconds of load per run. */
  readonly seconds: number
  /** Interleaved rounds: each target runs once per round. */
  readonly rounds: number
  /** autocannon's connections; for a fixed rate, the most requests in flight at once. */
  readonly connections: number
  /** Seconds of unmeasured load per target before round 1 (JIT, connection pools). */
  readonly warmupSeconds: number
}

/** CPU per request: every target at the same fixed offered load. */
export interface CpuPlan extends LoadPlan {
  /** Requests per second offered to each target. */
  readonly rate: number
}

/** Everything a benchmark run depends on; printed with the results. */
export interface BenchConfig {
  readonly parts: readonly BenchPart[]
  /** Throughput: every target as fast as it can answer `connections` clients. */
  readonly throughput: LoadPlan
  readonly cpu: CpuPlan
  /** Distinct clients in the rotating-keys scenario. */
  readonly rotatingKeys: number
  /** Keys created per library to measure memory per idle key. */
  readonly memoryKeys: number
  readonly scenarios: readonly ScenarioName[]
  readonly smoke: boolean
}

export const DEFAULT_CONFIG: BenchConfig = Object.freeze({
  parts: BENCH_PARTS,
  throughput: { seconds: 3, rounds: 6, connections: 50, warmupSeconds: 2 },
  // 10,000 req/s leaves every target idle part of the time on two cores: CPU per request is
  // then what a request costs, not what a saturated server makes of it.
  cpu: { rate: 10_000, seconds: 5, rounds: 3, connections: 50, warmupSeconds: 2 },
  rotatingKeys: 10_000,
  memoryKeys: 100_000,
  scenarios: SCENARIO_NAMES,
  smoke: false,
})

/** One short round of everything: proves the harness works, says nothing about speed. */
export const SMOKE_CONFIG: BenchConfig = Object.freeze({
  ...DEFAULT_CONFIG,
  throughput: { ...DEFAULT_CONFIG.throughput, seconds: 1, rounds: 1, warmupSeconds: 0 },
  cpu: { ...DEFAULT_CONFIG.cpu, rate: 2_000, seconds: 1, rounds: 1, warmupSeconds: 0 },
  memoryKeys: 1_000,
  smoke: true,
})
