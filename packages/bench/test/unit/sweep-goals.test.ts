import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG } from '../../src/config.js'
import { evaluateGoals, type Goal } from '../../src/goals.js'
import type { BenchResult, RunSample, SweepLevel, SweepLoadKind, SweepTarget } from '../../src/results.js'
import type { TargetName } from '../../src/targets/catalog.js'

// The sweep's goals from made-up figures: which load each reads, and that each is a median of
// ratios taken round by round, not a ratio of medians.

type Figures = Partial<Pick<RunSample, 'rps' | 'meanMs' | 'p99Ms' | 'redisCpuSeconds' | 'appCpuSeconds'>>

function run(round: number, figures: Figures): RunSample {
  return {
    round,
    rps: 1_000,
    meanMs: 1,
    p50Ms: 1,
    p99Ms: 2,
    responses: 1_000,
    ok: 1_000,
    statuses: { '200': 1_000 },
    errors: 0,
    commands: { evalsha: 1_000 },
    degraded: 0,
    appCpuSeconds: 0.01,
    redisCpuSeconds: 0.01,
    response: { status: 200, bytes: 0, rateLimitHeaders: [], contentType: undefined, body: '' },
    ...figures,
  } as RunSample
}

/** A target's runs at one load, one per round. */
const target = (name: TargetName, rounds: readonly Figures[]): SweepTarget =>
  ({
    target: name,
    label: name,
    unavailable: undefined,
    keptUp: true,
    samples: rounds.map((f, i) => run(i + 1, f)),
  }) as unknown as SweepTarget

function level(kind: SweepLoadKind, targets: SweepTarget[], extra: Partial<SweepLevel> = {}): SweepLevel {
  return {
    kind,
    share: undefined,
    offeredRps: kind === 'autocannon' ? 2_000 : undefined,
    connections: kind === 'autocannon' ? 10 : 50,
    targets,
    ...extra,
  }
}

function goals(levels: SweepLevel[]): Goal[] {
  const result = {
    config: DEFAULT_CONFIG,
    cpu: [],
    throughput: [],
    memory: [],
    sweep: { ceiling: 'ceiling', baseline: 'headers', saturationRps: 10_000, saturationSamples: [10_000], levels },
  } as unknown as BenchResult
  return evaluateGoals(result).filter((g) => g.part === 'sweep')
}

const named = (all: Goal[], start: string): Goal => all.find((g) => g.goal.startsWith(start))!

describe('the sweep goals', () => {
  it('take the median of per-round ratios, not the ratio of medians', () => {
    // Per round, Sluice ÷ @fastify/rate-limit: 1, 1.5, 2 (median 1.5); the medians' ratio is 200 ÷ 100 = 2.
    const saturated = level('saturated', [
      target('sluice', [{ rps: 100 }, { rps: 300 }, { rps: 200 }]),
      target('fastify-rate-limit', [{ rps: 100 }, { rps: 200 }, { rps: 100 }]),
      target('headers', [{ rps: 400 }, { rps: 400 }, { rps: 400 }]),
    ])
    const all = goals([saturated])
    const peer = named(all, 'Saturated: Sluice req/s ÷ @fastify/rate-limit')
    expect(peer.measured).toBe('1.50×')
    expect(peer.met).toBe(true)
    const baseline = named(all, 'Saturated: Sluice req/s ÷ headers only')
    expect(baseline.measured).toBe('0.50×')
    expect(baseline.met).toBe(false)
  })

  it('compare latency added over headers only as a difference in every round, the peer faster than the baseline too', () => {
    const paced = level(
      'paced',
      [
        // Added: Sluice 0.2, 0.6, 5; the peer 0.4, 0.3, −0.1 (faster than the baseline): Sluice's less the
        // peer's −0.2, +0.3, +5.1, and a ratio would have had none in the last round.
        target('sluice', [{ meanMs: 1.2 }, { meanMs: 1.6 }, { meanMs: 6 }]),
        target('fastify-rate-limit', [{ meanMs: 1.4 }, { meanMs: 1.3 }, { meanMs: 0.9 }]),
        target('headers', [{ meanMs: 1 }, { meanMs: 1 }, { meanMs: 1 }]),
      ],
      { share: 0.25, offeredRps: 2_500 },
    )
    const added = named(goals([paced]), '25 % load: the mean latency Sluice adds')
    expect(added.measured).toBe('+0.30 ms')
    expect(added.threshold).toBe('≤ 0.00 ms')
    expect(added.met).toBe(false)
    // Both faster than the baseline, Sluice less so: a ratio of the two (0.5) would have said met.
    const bothFaster = level(
      'paced',
      [target('sluice', [{ meanMs: 0.9 }]), target('fastify-rate-limit', [{ meanMs: 0.8 }]), target('headers', [{ meanMs: 1 }])],
      { share: 0.25, offeredRps: 2_500 },
    )
    const slower = named(goals([bothFaster]), '25 % load: the mean latency Sluice adds')
    expect(slower.measured).toBe('+0.10 ms')
    expect(slower.met).toBe(false)
  })

  it('read each figure at its own load, and not at a load the goal is not stated for', () => {
    const cpu = (redisCpuSeconds: number): Figures[] => [{ redisCpuSeconds }, { redisCpuSeconds }]
    const at = (share: number, sluice: number): SweepLevel =>
      level('paced', [target('sluice', cpu(sluice)), target('fastify-rate-limit', cpu(0.01)), target('headers', cpu(0))], {
        share,
        offeredRps: share * 10_000,
      })
    const all = goals([
      at(0.1, 0.009),
      at(0.5, 0.005),
      // autocannon on 50 connections: not the load its goals are stated for.
      level('autocannon', [target('sluice', [{}]), target('fastify-rate-limit', [{}]), target('headers', [{}])], { connections: 50 }),
    ])
    expect(named(all, "10 % load: Sluice's Redis CPU per script call").measured).toBe('0.90×')
    expect(named(all, "50 % load: Sluice's Redis CPU per request").measured).toBe('0.50×')
    expect(named(all, 'autocannon, 2,000 req/s, 10 connections: the mean').met).toBeUndefined()
    // Not run: not measured, rather than met or missed.
    expect(named(all, "Saturated: Sluice's Redis CPU").measured).toBe('not measured')
  })
})
