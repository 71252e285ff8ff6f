import type { BenchConfig } from './config.js'
import type { KeyPlan } from './load.js'
import type { Machine } from './machine.js'
import type { MemoryResult } from './memory.js'
import type { ProbedResponse } from './probe.js'
import type { CommandCounts } from './redis-accounting.js'
import type { ScenarioName } from './scenarios.js'
import type { LimitSpec, TargetName } from './targets/catalog.js'

/** One measured run of one target. */
export interface RunSample {
  readonly round: number
  /** Responses per second. */
  readonly rps: number
  readonly meanMs: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly responses: number
  readonly ok: number
  readonly statuses: Readonly<Record<string, number>>
  /** Connection errors, timeouts and requests never answered. */
  readonly errors: number
  /** What Redis ran during the run (INFO commandstats after CONFIG RESETSTAT). */
  readonly commands: CommandCounts
  /** Checks the limiter answered without Redis during the run (Sluice's failure mode), if it counts them. */
  readonly degraded: number | undefined
  /** CPU seconds the target's process used during the run (utime + stime, /proc/<pid>/stat). */
  readonly appCpuSeconds: number
  /** CPU seconds redis-server used during the run (used_cpu_sys + used_cpu_user, INFO cpu). */
  readonly redisCpuSeconds: number
  /** A fixed-rate run's requests due and requests sent; absent from a throughput run. */
  readonly offered?: number
  readonly sent?: number
  /** One response taken right after the run: what the target was sending. */
  readonly response: ProbedResponse
}

export interface TargetSummary {
  readonly target: TargetName
  readonly label: string
  /** Why the target was not measured (it could not be built on this machine). */
  readonly unavailable: string | undefined
  readonly samples: readonly RunSample[]
  readonly medianRps: number
  readonly minRps: number
  readonly maxRps: number
  /** Medians over rounds of each run's mean, p50 and p99 latency. */
  readonly meanMs: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Median rps over the ceiling's (a bare 200) median rps in the same scenario. */
  readonly ratioToCeiling: number
  /**
   * The median over rounds of this target's rps over the ceiling's in the same round: runs next
   * to each other share the machine's mood, so this moves less with noise than the ratio of medians.
   */
  readonly pairedRatioToCeiling: number
  /** The same two against the scenario's baseline: Sluice's own answer sent with no limiter. */
  readonly ratioToBaseline: number
  readonly pairedRatioToBaseline: number
  readonly responses: number
  readonly ok: number
  readonly denied: number
  /** Responses that were neither 2xx nor 429, plus connection errors. */
  readonly failures: number
  /** Over all rounds: EVALSHA + EVAL calls per 2xx response, and per response. */
  readonly scriptCallsPerOk: number
  readonly scriptCallsPerResponse: number
  /** Every command Redis ran (including inside scripts) per response, and the mix by command. */
  readonly commandsPerResponse: number
  readonly commandMix: Readonly<Record<string, number>>
  readonly degraded: number | undefined
  /** Medians over rounds of each run's CPU time per response, in microseconds. */
  readonly appUs: number
  readonly redisUs: number
  /** App + Redis, per run, then the median. */
  readonly totalUs: number
  /** The least and the most app CPU per response over the rounds. */
  readonly minAppUs: number
  readonly maxAppUs: number
  /** A fixed-rate run: the rate offered; undefined in a throughput run. */
  readonly offeredRps: number | undefined
  /** False when some fixed-rate run answered less than 99 % of the requests due: the target could not keep up. */
  readonly keptUp: boolean
  /** The last run's probed response. */
  readonly response: ProbedResponse | undefined
}

export interface ScenarioResult {
  readonly name: ScenarioName
  readonly title: string
  readonly description: string
  readonly limits: LimitSpec
  readonly keys: KeyPlan
  readonly expect: 'allowed' | 'denied'
  /** A bare 200 on the same framework. */
  readonly ceiling: TargetName
  /** Sluice's answer in this scenario, sent with no limiter. */
  readonly baseline: TargetName
  /** Requests per second offered to each target in the CPU part; undefined in the throughput part. */
  readonly offeredRps: number | undefined
  readonly targets: readonly TargetSummary[]
}

/** A target at one load of the sweep: its summary, and what it adds over the baseline. */
export interface SweepTarget extends TargetSummary {
  /** The median over rounds of this target's mean latency minus the baseline's in the same round and load. */
  readonly addedMeanMs: number
  /** The same for p99. */
  readonly addedP99Ms: number
}

export type SweepLoadKind = 'paced' | 'saturated' | 'autocannon'

/** One offered load of the sweep, every target at it. */
export interface SweepLevel {
  /**
   * paced: a share of the saturation rate, evenly spaced; saturated: the closed loop; autocannon:
   * autocannon's `overallRate` on a few connections, as a user who benchmarks with it sees.
   */
  readonly kind: SweepLoadKind
  /** The share of the saturation rate offered (paced only). */
  readonly share: number | undefined
  /** Requests per second offered to each target; undefined for the closed loop. */
  readonly offeredRps: number | undefined
  /** The most requests in flight at once (the closed loop's and autocannon's connections). */
  readonly connections: number
  readonly targets: readonly SweepTarget[]
}

export interface SweepResult {
  /** A bare 200, and the headers-only baseline whose saturation sets the offered loads. */
  readonly ceiling: TargetName
  readonly baseline: TargetName
  readonly limits: LimitSpec
  readonly keys: KeyPlan
  /** The baseline's closed-loop req/s, measured before the sweep: the median of `saturationSamples`. */
  readonly saturationRps: number
  readonly saturationSamples: readonly number[]
  /** The paced loads in ascending order, the saturated closed loop, then autocannon at its fixed rate. */
  readonly levels: readonly SweepLevel[]
}

export interface BenchResult {
  readonly config: BenchConfig
  readonly machine: Machine
  readonly startedAt: Date
  readonly finishedAt: Date
  /** Each scenario at a fixed offered load: CPU per request. Empty when the part did not run. */
  readonly cpu: readonly ScenarioResult[]
  /** Each scenario as fast as each target answers. Empty when the part did not run. */
  readonly throughput: readonly ScenarioResult[]
  /** Latency and CPU against offered load. Undefined when the part did not run. */
  readonly sweep: SweepResult | undefined
  readonly memory: readonly MemoryResult[]
}
