/**
 * One measured run of one target, and a target's runs summed up: what every part of the
 * benchmark measures alike, whichever load it offers.
 */
import type { Redis } from 'ioredis'
import type { TargetProcess } from './children.js'
import type { BenchConfig, CpuPlan, LoadPlan } from './config.js'
import { keyFor, type LoadResult, runLoad } from './load.js'
import { type PacedLoadResult, runPacedLoad } from './paced-load.js'
import { probe } from './probe.js'
import { processCpuSeconds } from './process-cpu.js'
import { commandStats, redisCpuSeconds, resetCommandStats, scriptCalls, sumCounts, totalCalls } from './redis-accounting.js'
import type { RunSample, TargetSummary } from './results.js'
import type { Scenario } from './scenarios.js'
import { median, ratio, sum } from './stats.js'
import { TARGETS, type TargetName } from './targets/catalog.js'

// Requests in flight when the load stops land within milliseconds; wait for them before
// reading Redis's counters and the CPU times.
const DRAIN_MS = 100
// A fixed-rate run that answered less than this share of the requests due could not keep up.
export const KEPT_UP = 0.99

/**
 * How a part loads a target: as fast as it answers (throughput), at a fixed rate evenly paced
 * (cpu), or at autocannon's `overallRate` (what a user who benchmarks with autocannon sees).
 */
export type Method =
  | { readonly kind: 'throughput'; readonly plan: LoadPlan }
  | { readonly kind: 'cpu'; readonly plan: CpuPlan }
  | { readonly kind: 'autocannon-rate'; readonly plan: CpuPlan }

export interface Context {
  readonly config: BenchConfig
  readonly admin: Redis
  readonly log: (line: string) => void
  readonly signal: AbortSignal | undefined
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

export function load(ctx: Context, method: Method, s: Scenario, url: string, seconds: number): Promise<LoadResult | PacedLoadResult> {
  const { connections } = method.plan
  const options = { url, connections, seconds, keys: s.keys, signal: ctx.signal }
  if (method.kind === 'cpu') return runPacedLoad({ ...options, rate: method.plan.rate })
  return runLoad(method.kind === 'autocannon-rate' ? { ...options, overallRate: method.plan.rate, fineLatency: true } : options)
}

export async function measureRun(ctx: Context, method: Method, s: Scenario, target: TargetProcess, round: number): Promise<RunSample> {
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

export const perResponseUs = (seconds: number, r: RunSample): number => ratio(seconds * 1e6, r.responses)

export function summarize(
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
    meanMs: median(samples.map((r) => r.meanMs)),
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

/** One line of progress for a measured run. */
export function describeRun(where: string, name: TargetName, run: RunSample): string {
  const denied = run.statuses['429'] ?? 0
  const cpu = `app ${fmt(perResponseUs(run.appCpuSeconds, run), 1)} µs  Redis ${fmt(perResponseUs(run.redisCpuSeconds, run), 1)} µs`
  return (
    `  [${where}] ${name.padEnd(18)} ${fmt(run.rps).padStart(7)} req/s  ${cpu}  mean ${fmt(run.meanMs, 2)} ms  p50 ${fmt(run.p50Ms, 2)} ms  p99 ${fmt(run.p99Ms, 2)} ms` +
    `  2xx ${fmt(run.ok)}  429 ${fmt(denied)}  scripts ${fmt(scriptCalls(run.commands))}` +
    (run.offered !== undefined && run.responses < KEPT_UP * run.offered
      ? `  BEHIND: ${fmt(run.responses)} answered of ${fmt(run.offered)} due`
      : '') +
    (run.degraded ? `  DEGRADED ${fmt(run.degraded)}` : '')
  )
}
