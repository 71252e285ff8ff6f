import { type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { startTarget, type TargetProcess } from './children.js'
import type { BenchConfig, CpuPlan, LoadPlan } from './config.js'
import { keyFor, type LoadResult, runLoad } from './load.js'
import { currentLoad, describeMachine } from './machine.js'
import { MEMORY_LIBRARIES, type MemoryResult, measureMemory } from './memory.js'
import { type PacedLoadResult, runPacedLoad } from './paced-load.js'
import { probe } from './probe.js'
import { processCpuSeconds } from './process-cpu.js'
import { commandStats, redisCpuSeconds, redisVersion, resetCommandStats, scriptCalls, sumCounts, totalCalls } from './redis-accounting.js'
import type { BenchResult, RunSample, ScenarioResult, TargetSummary } from './results.js'
import { offeredRate, type Scenario, scenario } from './scenarios.js'
import { median, ratio, sum } from './stats.js'
import { TARGETS, type TargetName, TargetUnavailableError } from './targets/catalog.js'

export interface RunnerHooks {
  /** Progress, one line per step. */
  readonly log?: (line: string) => void
  /** Stops the run between steps (and the load in flight); every process is still cleaned up. */
  readonly signal?: AbortSignal
}

// Requests in flight when the load stops land within milliseconds; wait for them before
// reading Redis's counters and the CPU times.
const DRAIN_MS = 100
// A fixed-rate run that answered less than this share of the requests due could not keep up.
const KEPT_UP = 0.99

/** How a part loads a target: as fast as it answers (throughput), or at a fixed rate (CPU). */
type Method = { readonly kind: 'throughput'; readonly plan: LoadPlan } | { readonly kind: 'cpu'; readonly plan: CpuPlan }

interface Context {
  readonly config: BenchConfig
  readonly admin: Redis
  readonly log: (line: string) => void
  readonly signal: AbortSignal | undefined
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

function load(ctx: Context, method: Method, s: Scenario, url: string, seconds: number): Promise<LoadResult | PacedLoadResult> {
  const { connections } = method.plan
  const options = { url, connections, seconds, keys: s.keys, signal: ctx.signal }
  return method.kind === 'cpu' ? runPacedLoad({ ...options, rate: method.plan.rate }) : runLoad(options)
}

async function measureRun(ctx: Context, method: Method, s: Scenario, target: TargetProcess, round: number): Promise<RunSample> {
  const { admin } = ctx
  // Every run starts from an empty Redis, so no target inherits another's buckets.
  await admin.flushdb()
  const before = await target.counters()
  await resetCommandStats(admin)
  const redisCpuBefore = await redisCpuSeconds(admin)
  const appCpuBefore = await processCpuSeconds(target.pid)
  const result = await load(ctx, method, s, target.url, method.plan.seconds)
  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS))
  const appCpu = (await processCpuSeconds(target.pid)) - appCpuBefore
  const redisCpu = (await redisCpuSeconds(admin)) - redisCpuBefore
  const commands = await commandStats(admin)
  const after = await target.counters()
  const degraded = before !== null && after !== null ? after.degradedAnswers - before.degradedAnswers : undefined
  let response = await probe(target.url, keyFor(s.keys, 0))
  // A flooded bucket may have refilled a token since the run: the request after finds it empty.
  for (let i = 1; i < 3 && s.expect === 'denied' && TARGETS[target.name].limits && response.status !== 429; i++) {
    response = await probe(target.url, keyFor(s.keys, 0))
  }
  return { round, ...result, commands, degraded, appCpuSeconds: appCpu, redisCpuSeconds: redisCpu, response }
}

const perResponseUs = (seconds: number, r: RunSample): number => ratio(seconds * 1e6, r.responses)

function summarize(
  name: TargetName,
  samples: readonly RunSample[],
  unavailable: string | undefined,
  ceiling: readonly RunSample[],
  baseline: readonly RunSample[],
  offeredRps: number | undefined,
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
  const appUs = samples.map((r) => perResponseUs(r.appCpuSeconds, r))
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
    ratioToCeiling: ratio(medianRps, median(ceiling.map((r) => r.rps))),
    pairedRatioToCeiling: median(samples.map((r, i) => ratio(r.rps, ceiling[i]?.rps))),
    ratioToBaseline: ratio(medianRps, median(baseline.map((r) => r.rps))),
    pairedRatioToBaseline: median(samples.map((r, i) => ratio(r.rps, baseline[i]?.rps))),
    responses,
    ok,
    denied,
    failures: responses - ok - denied + sum(samples.map((r) => r.errors)),
    scriptCallsPerOk: ratio(scriptCalls(commands), ok),
    scriptCallsPerResponse: ratio(scriptCalls(commands), responses),
    commandsPerResponse: ratio(totalCalls(commands), responses),
    commandMix,
    degraded,
    appUs: median(appUs),
    redisUs: median(samples.map((r) => perResponseUs(r.redisCpuSeconds, r))),
    totalUs: median(samples.map((r) => perResponseUs(r.appCpuSeconds + r.redisCpuSeconds, r))),
    minAppUs: Math.min(...appUs),
    maxAppUs: Math.max(...appUs),
    offeredRps,
    keptUp: samples.every((r) => r.offered === undefined || r.responses >= KEPT_UP * r.offered),
    response: samples.at(-1)?.response,
  }
}

async function runScenario(ctx: Context, part: Method, s: Scenario, redis: RedisServer): Promise<ScenarioResult> {
  const { log } = ctx
  const method: Method = part.kind === 'cpu' ? { kind: 'cpu', plan: { ...part.plan, rate: offeredRate(s, part.plan.rate) } } : part
  const { rounds, warmupSeconds } = method.plan
  log(`\n${s.title}, ${method.kind === 'cpu' ? `${fmt(method.plan.rate)} req/s offered` : 'throughput'}: starting ${s.targets.join(', ')}`)
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
        const denied = run.statuses['429'] ?? 0
        const cpu = `app ${fmt(perResponseUs(run.appCpuSeconds, run), 1)} µs  Redis ${fmt(perResponseUs(run.redisCpuSeconds, run), 1)} µs`
        log(
          `  [${s.name} ${round}/${rounds}] ${name.padEnd(18)} ${fmt(run.rps).padStart(7)} req/s  ${cpu}  p50 ${fmt(run.p50Ms, 2)} ms  p99 ${fmt(run.p99Ms, 2)} ms` +
            `  2xx ${fmt(run.ok)}  429 ${fmt(denied)}  scripts ${fmt(scriptCalls(run.commands))}` +
            (run.offered !== undefined && run.responses < KEPT_UP * run.offered
              ? `  BEHIND: ${fmt(run.responses)} answered of ${fmt(run.offered)} due`
              : '') +
            (run.degraded ? `  DEGRADED ${fmt(run.degraded)}` : ''),
        )
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
    return { config, machine, startedAt, finishedAt: new Date(), cpu, throughput, memory }
  } finally {
    admin.disconnect()
    await redis.stop()
  }
}
