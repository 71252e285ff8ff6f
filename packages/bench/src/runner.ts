import { type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { startTarget, type TargetProcess } from './children.js'
import type { BenchConfig } from './config.js'
import { runLoad } from './load.js'
import { currentLoad, describeMachine } from './machine.js'
import { MEMORY_LIBRARIES, type MemoryResult, measureMemory } from './memory.js'
import { commandStats, redisVersion, resetCommandStats, scriptCalls, sumCounts, totalCalls } from './redis-accounting.js'
import type { BenchResult, RunSample, ScenarioResult, TargetSummary } from './results.js'
import { type Scenario, scenario } from './scenarios.js'
import { median, ratio, sum } from './stats.js'
import { TARGETS, type TargetName, TargetUnavailableError } from './targets/catalog.js'

export interface RunnerHooks {
  /** Progress, one line per step. */
  readonly log?: (line: string) => void
  /** Stops the run between steps (and the load in flight); every process is still cleaned up. */
  readonly signal?: AbortSignal
}

// Requests in flight when autocannon stops land within milliseconds; wait for them before
// reading Redis's counters.
const DRAIN_MS = 100

interface Context {
  readonly config: BenchConfig
  readonly admin: Redis
  readonly log: (line: string) => void
  readonly signal: AbortSignal | undefined
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

async function measureRun(ctx: Context, s: Scenario, target: TargetProcess, round: number): Promise<RunSample> {
  const { admin, config } = ctx
  // Every run starts from an empty Redis, so no target inherits another's buckets.
  await admin.flushdb()
  const before = await target.counters()
  await resetCommandStats(admin)
  const load = await runLoad({
    url: target.url,
    connections: config.connections,
    seconds: config.seconds,
    keys: s.keys,
    signal: ctx.signal,
  })
  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS))
  const commands = await commandStats(admin)
  const after = await target.counters()
  const degraded = before !== null && after !== null ? after.degradedAnswers - before.degradedAnswers : undefined
  return { round, ...load, commands, degraded }
}

function summarize(
  name: TargetName,
  samples: readonly RunSample[],
  unavailable: string | undefined,
  ceiling: readonly RunSample[],
): TargetSummary {
  const rps = samples.map((r) => r.rps)
  const responses = sum(samples.map((r) => r.responses))
  const ok = sum(samples.map((r) => r.ok))
  const denied = sum(samples.map((r) => r.statuses['429'] ?? 0))
  const commands = sumCounts(samples.map((r) => r.commands))
  const commandMix: Record<string, number> = {}
  for (const [command, calls] of Object.entries(commands)) commandMix[command] = calls / responses
  const degraded = samples.some((r) => r.degraded === undefined) ? undefined : sum(samples.map((r) => r.degraded ?? 0))
  const medianRps = median(rps)
  const ceilingRps = median(ceiling.map((r) => r.rps))
  return {
    target: name,
    label: TARGETS[name].label,
    unavailable,
    samples,
    medianRps,
    minRps: Math.min(...rps),
    maxRps: Math.max(...rps),
    p50Ms: median(samples.map((r) => r.p50Ms)),
    p99Ms: median(samples.map((r) => r.p99Ms)),
    ratioToCeiling: ratio(medianRps, ceilingRps),
    pairedRatioToCeiling: median(samples.map((r, i) => ratio(r.rps, ceiling[i]?.rps))),
    responses,
    ok,
    denied,
    failures: responses - ok - denied + sum(samples.map((r) => r.errors)),
    scriptCallsPerOk: ratio(scriptCalls(commands), ok),
    scriptCallsPerResponse: ratio(scriptCalls(commands), responses),
    commandsPerResponse: ratio(totalCalls(commands), responses),
    commandMix,
    degraded,
  }
}

async function runScenario(ctx: Context, s: Scenario, redis: RedisServer): Promise<ScenarioResult> {
  const { config, log } = ctx
  log(`\n${s.title}: starting ${s.targets.join(', ')}`)
  // Started together (they idle while others are measured), each in a process of its own.
  const started = await Promise.allSettled(s.targets.map((name) => startTarget(name, { redisPort: redis.port, limits: s.limits })))
  const running = new Map<TargetName, TargetProcess>()
  const unavailable = new Map<TargetName, string>()
  const samples = new Map<TargetName, RunSample[]>(s.targets.map((name) => [name, []]))
  try {
    let failure: unknown
    started.forEach((outcome, i) => {
      const name = s.targets[i]!
      if (outcome.status === 'fulfilled') running.set(name, outcome.value)
      else if (outcome.reason instanceof TargetUnavailableError) unavailable.set(name, outcome.reason.message)
      else failure ??= outcome.reason
    })
    if (failure !== undefined) throw failure
    for (const [name, reason] of unavailable) log(`  ${name}: SKIPPED: ${reason}`)
    const ceiling = s.targets[0]!
    if (!running.has(ceiling)) throw new Error(`${s.name}: the ceiling ${ceiling} did not start`)
    const order = s.targets.filter((name) => running.has(name))

    if (config.warmupSeconds > 0) {
      for (const name of order) {
        ctx.signal?.throwIfAborted()
        await ctx.admin.flushdb()
        await runLoad({
          url: running.get(name)!.url,
          connections: config.connections,
          seconds: config.warmupSeconds,
          keys: s.keys,
          signal: ctx.signal,
        })
      }
    }
    // Round-robin: a noisy moment on the machine hits every target alike.
    for (let round = 1; round <= config.rounds; round++) {
      for (const name of order) {
        ctx.signal?.throwIfAborted()
        const run = await measureRun(ctx, s, running.get(name)!, round)
        samples.get(name)!.push(run)
        const denied = run.statuses['429'] ?? 0
        log(
          `  [${s.name} ${round}/${config.rounds}] ${name.padEnd(18)} ${fmt(run.rps).padStart(7)} req/s  p50 ${fmt(run.p50Ms)} ms  p99 ${fmt(run.p99Ms)} ms` +
            `  2xx ${fmt(run.ok)}  429 ${fmt(denied)}  scripts ${fmt(scriptCalls(run.commands))}` +
            (run.degraded ? `  DEGRADED ${fmt(run.degraded)}` : ''),
        )
      }
    }
  } finally {
    await Promise.all([...running.values()].map((target) => target.stop()))
  }
  const ceiling = samples.get(s.targets[0]!)!
  return {
    name: s.name,
    title: s.title,
    description: s.description,
    limits: s.limits,
    keys: s.keys,
    expect: s.expect,
    ceiling: s.targets[0]!,
    targets: s.targets.map((name) => summarize(name, samples.get(name)!, unavailable.get(name), ceiling)),
  }
}

/**
 * The whole benchmark: its own redis-server, each scenario's targets in child processes, runs
 * interleaved round by round, then Redis memory per idle key. Everything it starts is stopped
 * before it returns or throws.
 */
export async function runBenchmark(config: BenchConfig, hooks: RunnerHooks = {}): Promise<BenchResult> {
  const log = hooks.log ?? (() => {})
  const startedAt = new Date()
  const loadAtStart = currentLoad()
  const redis = await startRedis()
  const admin = redis.client()
  try {
    const ctx: Context = { config, admin, log, signal: hooks.signal }
    const scenarios: ScenarioResult[] = []
    for (const name of config.scenarios) scenarios.push(await runScenario(ctx, scenario(name, config.rotatingKeys), redis))
    const memory: MemoryResult[] = []
    if (config.memoryKeys > 0) {
      log(`\nRedis memory per idle key, ${fmt(config.memoryKeys)} keys each`)
      for (const library of MEMORY_LIBRARIES) {
        hooks.signal?.throwIfAborted()
        const result = await measureMemory(redis, admin, library, config.memoryKeys)
        memory.push(result)
        log(
          `  ${library.padEnd(18)} ${fmt(result.bytesPerKey, 1)} B/key  floor ${fmt(result.floorBytesPerKey, 1)} B/key  ×${fmt(result.ratioToFloor, 2)}`,
        )
      }
    }
    const machine = await describeMachine(await redisVersion(admin), loadAtStart)
    return { config, machine, startedAt, finishedAt: new Date(), scenarios, memory }
  } finally {
    admin.disconnect()
    await redis.stop()
  }
}
