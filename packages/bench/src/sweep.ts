import type { RedisServer } from '@sluice/harness'
import { startTargets } from './children.js'
import { type Context, describeRun, fmt, load, type Method, measureRun, summarize } from './measure.js'
import type { RunSample, SweepLevel, SweepLoadKind, SweepResult, SweepTarget } from './results.js'
import { type Scenario, scenario } from './scenarios.js'
import { median, perRoundMedian } from './stats.js'
import type { TargetName } from './targets/catalog.js'

/**
 * The latency sweep: what each limiter adds to a request's latency, and costs in CPU, from a
 * quiet server to a saturated one. The loads are shares of what the headers-only baseline
 * answers when saturated, measured first in the same run, so they mean the same on any machine
 * (a fixed 20,000 req/s saturates everything on two cores).
 */

/** No limiter, the headers-only baseline, Sluice with its defaults and with each other store setting, the peers. */
export const SWEEP_TARGETS: readonly TargetName[] = ['ceiling', 'headers', 'sluice', 'sluice-capped', 'fastify-rate-limit', 'rlflex']
const CEILING: TargetName = 'ceiling'
const BASELINE: TargetName = 'headers'

interface Level {
  readonly kind: SweepLoadKind
  readonly share: number | undefined
  readonly method: Method
}

/** How a level prints, short: "25 %", "saturated", "autocannon". */
export function levelName(level: Pick<SweepLevel, 'kind' | 'share'>): string {
  return level.kind === 'paced' ? `${Math.round(level.share! * 100)} %` : level.kind
}

function summarizeLevel(
  level: Level,
  samples: ReadonlyMap<TargetName, RunSample[]>,
  unavailable: ReadonlyMap<TargetName, string>,
): SweepLevel {
  const ceiling = samples.get(CEILING)!
  const baseline = samples.get(BASELINE)!
  const offeredRps = level.method.kind === 'throughput' ? undefined : level.method.plan.rate
  const targets = SWEEP_TARGETS.map((name): SweepTarget => {
    const own = samples.get(name)!
    return {
      ...summarize(name, own, unavailable.get(name), ceiling, baseline, offeredRps),
      addedMeanMs: perRoundMedian([own, baseline], ([a, b]) => a!.meanMs - b!.meanMs),
      addedP99Ms: perRoundMedian([own, baseline], ([a, b]) => a!.p99Ms - b!.p99Ms),
    }
  })
  return { kind: level.kind, share: level.share, offeredRps, connections: level.method.plan.connections, targets }
}

export async function runSweep(ctx: Context, redis: RedisServer): Promise<SweepResult> {
  const { log } = ctx
  const plan = ctx.config.sweep
  // The one-key scenario's policy and keys: a bucket that never empties, so nothing is denied.
  const s: Scenario = { ...scenario('one-key', ctx.config.rotatingKeys), targets: SWEEP_TARGETS, baseline: BASELINE }
  const closed: Method = { kind: 'throughput', plan }
  log(`\nLatency sweep: starting ${SWEEP_TARGETS.join(', ')}`)
  const { running, unavailable } = await startTargets(SWEEP_TARGETS, { redisPort: redis.port, limits: s.limits })
  // One list per level per target, filled round by round.
  const samples: Map<TargetName, RunSample[]>[] = []
  let levels: Level[] = []
  const saturationSamples: number[] = []
  try {
    for (const [name, reason] of unavailable) log(`  ${name}: SKIPPED: ${reason}`)
    for (const name of [CEILING, BASELINE]) {
      if (!running.has(name)) throw new Error(`sweep: ${name}, which the others are compared with, did not start`)
    }
    const order = SWEEP_TARGETS.filter((name) => running.has(name))
    if (plan.warmupSeconds > 0) {
      for (const name of order) {
        ctx.signal?.throwIfAborted()
        await ctx.admin.flushdb()
        await load(ctx, closed, s, running.get(name)!.url, plan.warmupSeconds)
      }
    }
    for (let i = 1; i <= plan.saturationRuns; i++) {
      ctx.signal?.throwIfAborted()
      const run = await measureRun(ctx, closed, s, running.get(BASELINE)!, 0)
      saturationSamples.push(run.rps)
      log(describeRun(`saturation ${i}/${plan.saturationRuns}`, BASELINE, run))
    }
    const saturation = median(saturationSamples)
    log(`  saturation of ${BASELINE}: ${fmt(saturation)} req/s`)
    levels = [
      ...plan.shares.map(
        (share): Level => ({
          kind: 'paced',
          share,
          method: { kind: 'cpu', plan: { ...plan, rate: Math.max(1, Math.round(share * saturation)) } },
        }),
      ),
      { kind: 'saturated', share: undefined, method: closed },
      {
        kind: 'autocannon',
        share: undefined,
        method: { kind: 'autocannon-rate', plan: { ...plan, rate: plan.autocannonRate, connections: plan.autocannonConnections } },
      },
    ]
    for (const _ of levels) samples.push(new Map(SWEEP_TARGETS.map((name) => [name, []])))
    // Round by round, load by load, target by target: a noisy moment hits the targets at one load alike.
    for (let round = 1; round <= plan.rounds; round++) {
      for (const [i, level] of levels.entries()) {
        for (const name of order) {
          ctx.signal?.throwIfAborted()
          const run = await measureRun(ctx, level.method, s, running.get(name)!, round)
          samples[i]!.get(name)!.push(run)
          log(describeRun(`sweep ${levelName(level)} ${round}/${plan.rounds}`, name, run))
        }
      }
    }
  } finally {
    await Promise.all([...running.values()].map((target) => target.stop()))
  }
  return {
    ceiling: CEILING,
    baseline: BASELINE,
    limits: s.limits,
    keys: s.keys,
    saturationRps: median(saturationSamples),
    saturationSamples,
    levels: levels.map((level, i) => summarizeLevel(level, samples[i]!, unavailable)),
  }
}
