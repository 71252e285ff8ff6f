import type { BenchConfig } from './config.js'
import type { KeyPlan } from './load.js'
import type { Machine } from './machine.js'
import type { MemoryResult } from './memory.js'
import type { CommandCounts } from './redis-accounting.js'
import type { ScenarioName } from './scenarios.js'
import type { LimitSpec, TargetName } from './targets/catalog.js'

/** One measured run of one target. */
export interface RunSample {
  readonly round: number
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly responses: number
  readonly ok: number
  readonly statuses: Readonly<Record<string, number>>
  /** Connection errors and timeouts. */
  readonly errors: number
  /** What Redis ran during the run (INFO commandstats after CONFIG RESETSTAT). */
  readonly commands: CommandCounts
  /** Checks the limiter answered without Redis during the run (Sluice's failure mode), if it counts them. */
  readonly degraded: number | undefined
}

export interface TargetSummary {
  readonly target: TargetName
  readonly label: string
  /** Why the target was not measured (its package is not usable on this checkout). */
  readonly unavailable: string | undefined
  readonly samples: readonly RunSample[]
  readonly medianRps: number
  readonly minRps: number
  readonly maxRps: number
  /** Medians over rounds of each run's p50 and p99. */
  readonly p50Ms: number
  readonly p99Ms: number
  /** Median rps over the ceiling's median rps in the same scenario. */
  readonly ratioToCeiling: number
  /**
   * The median over rounds of this target's rps over the ceiling's in the same round: runs next
   * to each other share the machine's mood, so this moves less with noise than the ratio of medians.
   */
  readonly pairedRatioToCeiling: number
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
}

export interface ScenarioResult {
  readonly name: ScenarioName
  readonly title: string
  readonly description: string
  readonly limits: LimitSpec
  readonly keys: KeyPlan
  readonly expect: 'allowed' | 'denied'
  readonly ceiling: TargetName
  readonly targets: readonly TargetSummary[]
}

export interface BenchResult {
  readonly config: BenchConfig
  readonly machine: Machine
  readonly startedAt: Date
  readonly finishedAt: Date
  readonly scenarios: readonly ScenarioResult[]
  readonly memory: readonly MemoryResult[]
}
