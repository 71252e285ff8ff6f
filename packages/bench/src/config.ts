import { SCENARIO_NAMES, type ScenarioName } from './scenarios.js'

/** The benchmark's parts: each can run on its own (`--only`). */
export const BENCH_PARTS = ['cpu', 'throughput', 'sweep', 'memory'] as const
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

/**
 * The latency sweep: every target at shares of the saturation rate of the headers-only baseline
 * (measured first, in the same run, with the closed loop), paced; then saturated, closed loop.
 */
export interface SweepPlan extends LoadPlan {
  /** Offered loads as shares of the measured saturation rate, in the order they print. */
  readonly shares: readonly number[]
  /** Closed-loop runs of the baseline, `seconds` each, whose median is the saturation rate. */
  readonly saturationRuns: number
  /** autocannon's `overallRate` and connections for the load a user benchmarking with it would offer. */
  readonly autocannonRate: number
  readonly autocannonConnections: number
}

/** Everything a benchmark run depends on; printed with the results. */
export interface BenchConfig {
  readonly parts: readonly BenchPart[]
  /** Throughput: every target as fast as it can answer `connections` clients. */
  readonly throughput: LoadPlan
  readonly cpu: CpuPlan
  readonly sweep: SweepPlan
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
  // 6 targets × 6 loads × 5 rounds × (3 s + about 0.4 s between runs): about 10 minutes.
  sweep: {
    seconds: 3,
    rounds: 5,
    connections: 50,
    warmupSeconds: 2,
    shares: [0.1, 0.25, 0.5, 0.75],
    saturationRuns: 3,
    autocannonRate: 2_000,
    autocannonConnections: 10,
  },
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
  sweep: { ...DEFAULT_CONFIG.sweep, seconds: 1, rounds: 1, warmupSeconds: 0, saturationRuns: 1 },
  memoryKeys: 1_000,
  smoke: true,
})
