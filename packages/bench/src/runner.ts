import { type RedisServer, startRedis } from '@sluice/harness'
import { startTargets } from './children.js'
import type { BenchConfig } from './config.js'
import { currentLoad, describeMachine } from './machine.js'
import { type Context, describeRun, fmt, load, type Method, measureRun, summarize } from './measure.js'
import { MEMORY_LIBRARIES, type MemoryResult, measureMemory } from './memory.js'
import { redisVersion } from './redis-accounting.js'
import type { BenchResult, RunSample, ScenarioResult } from './results.js'
import { offeredRate, type Scenario, scenario } from './scenarios.js'
import { runSweep } from './sweep.js'
import type { TargetName } from './targets/catalog.js'

export interface RunnerHooks {
  /** Progress, one line per step. */
  readonly log?: (line: string) => void
  /** Stops the run between steps (and the load in flight); every process is still cleaned up. */
  readonly signal?: AbortSignal
}

async function runScenario(ctx: Context, part: Method, s: Scenario, redis: RedisServer): Promise<ScenarioResult> {
  const { log } = ctx
  const method: Method = part.kind === 'cpu' ? { kind: 'cpu', plan: { ...part.plan, rate: offeredRate(s, part.plan.rate) } } : part
  const { rounds, warmupSeconds } = method.plan
  log(`\n${s.title}, ${method.kind === 'cpu' ? `${fmt(method.plan.rate)} req/s offered` : 'throughput'}: starting ${s.targets.join(', ')}`)
  // Started together (they idle while others are measured), each in a process of its own.
  const { running, unavailable } = await startTargets(s.targets, { redisPort: redis.port, limits: s.limits })
  const samples = new Map<TargetName, RunSample[]>(s.targets.map((name) => [name, []]))
  try {
    for (const [name, reason] of unavailable) log(`  ${name}: SKIPPED: ${reason}`)
    for (const name of [s.targets[0]!, s.baseline]) {
      if (!running.has(name)) throw new Error(`${s.name}: ${name}, which the others are compared with, did not start`)
    }
    const order = s.targets.filter((name) => running.has(name))

    if (warmupSeconds > 0) {
      for (const name of order) {
        ctx.signal?.throwIfAborted()
        await ctx.admin.flushdb()
        await load(ctx, method, s, running.get(name)!.url, warmupSeconds)
      }
    }
    // Round-robin: a noisy moment on the machine hits every target alike.
    for (let round = 1; round <= rounds; round++) {
      for (const name of order) {
        ctx.signal?.throwIfAborted()
        const run = await measureRun(ctx, method, s, running.get(name)!, round)
        samples.get(name)!.push(run)
        log(describeRun(`${s.name} ${round}/${rounds}`, name, run))
      }
    }
  } finally {
    await Promise.all([...running.values()].map((target) => target.stop()))
  }
  const ceiling = samples.get(s.targets[0]!)!
  const baseline = samples.get(s.baseline)!
  const offeredRps = method.kind === 'cpu' ? method.plan.rate : undefined
  return {
    name: s.name,
    title: s.title,
    description: s.description,
    limits: s.limits,
    keys: s.keys,
    expect: s.expect,
    ceiling: s.targets[0]!,
    baseline: s.baseline,
    offeredRps,
    targets: s.targets.map((name) => summarize(name, samples.get(name)!, unavailable.get(name), ceiling, baseline, offeredRps)),
  }
}

/**
 * The whole benchmark: its own redis-server; for each part, each scenario's targets in child
 * processes, runs interleaved round by round; then Redis memory per idle key. Everything it
 * starts is stopped before it returns or throws.
 */
export async function runBenchmark(config: BenchConfig, hooks: RunnerHooks = {}): Promise<BenchResult> {
  const log = hooks.log ?? (() => {})
  const startedAt = new Date()
  const loadAtStart = currentLoad()
  const redis = await startRedis()
  const admin = redis.client()
  try {
    const ctx: Context = { config, admin, log, signal: hooks.signal }
    const runPart = async (method: Method): Promise<ScenarioResult[]> => {
      const results: ScenarioResult[] = []
      for (const name of config.scenarios) results.push(await runScenario(ctx, method, scenario(name, config.rotatingKeys), redis))
      return results
    }
    const cpu = config.parts.includes('cpu') ? await runPart({ kind: 'cpu', plan: config.cpu }) : []
    const throughput = config.parts.includes('throughput') ? await runPart({ kind: 'throughput', plan: config.throughput }) : []
    const sweep = config.parts.includes('sweep') ? await runSweep(ctx, redis) : undefined
    const memory: MemoryResult[] = []
    if (config.parts.includes('memory')) {
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
    return { config, machine, startedAt, finishedAt: new Date(), cpu, throughput, sweep, memory }
  } finally {
    admin.disconnect()
    await redis.stop()
  }
}
