import { perResponseUs } from './measure.js'
import { scriptCalls } from './redis-accounting.js'
import type { BenchResult, RunSample, ScenarioResult, SweepLevel, SweepResult, TargetSummary } from './results.js'
import type { ScenarioName } from './scenarios.js'
import { perRoundMedian, ratio } from './stats.js'
import type { TargetName } from './targets/catalog.js'

/** One of Sluice's performance targets, checked against this run's figures. */
export interface Goal {
  /** The part whose figures it is checked against. */
  readonly part: 'cpu' | 'throughput' | 'sweep' | 'memory'
  readonly goal: string
  readonly threshold: string
  readonly measured: string
  /** Undefined when this run could not measure it (a target skipped, a scenario or a part not run). */
  readonly met: boolean | undefined
  /** Targets whose figure went into it but that could not keep up with the offered load. */
  readonly behind: readonly string[]
}

function find(scenarios: readonly ScenarioResult[], scenario: ScenarioName, target: TargetName): TargetSummary | undefined {
  const t = scenarios.find((s) => s.name === scenario)?.targets.find((x) => x.target === target)
  return t === undefined || t.unavailable !== undefined ? undefined : t
}

const diff = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b)
const over = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b)

/** How a goal's figures print: a ratio, microseconds over a baseline, calls per request, or a difference in ms. */
const UNITS = {
  '×': { limit: (v: number) => `${v.toFixed(2)}×`, value: (v: number) => `${v.toFixed(2)}×` },
  µs: { limit: (v: number) => `${v.toFixed(1)} µs`, value: (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)} µs` },
  calls: { limit: String, value: (v: number) => v.toFixed(3) },
  ms: { limit: (v: number) => `${v.toFixed(2)} ms`, value: (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)} ms` },
} as const

interface Spec {
  readonly part: Goal['part']
  readonly goal: string
  readonly bound: '≤' | '≥'
  readonly limit: number
  readonly unit: keyof typeof UNITS
  /** Undefined: not measured in this run. */
  readonly value: number | undefined
  /** The targets the value was computed from, to flag those that could not keep up. */
  readonly from?: readonly (TargetSummary | undefined)[]
}

function check({ part, goal, bound, limit, unit, value, from = [] }: Spec): Goal {
  const threshold = `${bound} ${UNITS[unit].limit(limit)}`
  const behind = from.filter((t): t is TargetSummary => t !== undefined && !t.keptUp).map((t) => t.label)
  if (value === undefined || !Number.isFinite(value)) return { part, goal, threshold, measured: 'not measured', met: undefined, behind }
  return { part, goal, threshold, measured: UNITS[unit].value(value), met: bound === '≤' ? value <= limit : value >= limit, behind }
}

/** CPU per request at a fixed offered load: what Sluice costs an app and its Redis. */
function cpuGoals(cpu: readonly ScenarioResult[]): Goal[] {
  const at = (scenario: ScenarioName, target: TargetName): TargetSummary | undefined => find(cpu, scenario, target)
  const [sluice, peer, headers] = [at('one-key', 'sluice'), at('one-key', 'fastify-rate-limit'), at('one-key', 'headers')]
  const [rotating, rotatingPeer] = [at('many-keys', 'sluice'), at('many-keys', 'fastify-rate-limit')]
  const [flood, denied] = [at('flood', 'sluice'), at('flood', 'denied')]
  const cpuGoal = (goal: string, limit: number, unit: Spec['unit'], value: number | undefined, from: Spec['from']): Goal =>
    check({ part: 'cpu', goal, bound: '≤', limit, unit, value, from })
  return [
    cpuGoal(
      "One hot key, allowed: Sluice's app CPU over the same headers sent with no limiter",
      2.5,
      'µs',
      diff(sluice?.appUs, headers?.appUs),
      [sluice, headers],
    ),
    cpuGoal("One hot key, allowed: Sluice's Redis CPU ÷ @fastify/rate-limit's", 0.25, '×', over(sluice?.redisUs, peer?.redisUs), [
      sluice,
      peer,
    ]),
    cpuGoal("One hot key, allowed: Sluice's app + Redis CPU ÷ @fastify/rate-limit's", 0.7, '×', over(sluice?.totalUs, peer?.totalUs), [
      sluice,
      peer,
    ]),
    cpuGoal(
      "Rotating keys, allowed: Sluice's app + Redis CPU ÷ @fastify/rate-limit's",
      0.7,
      '×',
      over(rotating?.totalUs, rotatingPeer?.totalUs),
      [rotating, rotatingPeer],
    ),
    cpuGoal("Flood: Sluice's app CPU over the same 429 sent with no limiter", 1, 'µs', diff(flood?.appUs, denied?.appUs), [flood, denied]),
  ]
}

function throughputGoals(result: BenchResult): Goal[] {
  const at = (scenario: ScenarioName, target: TargetName): TargetSummary | undefined => find(result.throughput, scenario, target)
  const { connections } = result.config.throughput
  // The script-call goals are stated for 50 connections: fewer or more change the batches.
  const at50 = (v: number | undefined): number | undefined => (connections === 50 ? v : undefined)
  const atLeast = (goal: string, limit: number, value: number | undefined): Goal =>
    check({ part: 'throughput', goal, bound: '≥', limit, unit: '×', value })
  const goals: Goal[] = []
  const scriptCalls: Goal[] = []
  for (const [name, what] of [
    ['one-key', 'one key'],
    ['many-keys', 'rotating keys'],
  ] as const) {
    const [sluice, peer] = [at(name, 'sluice'), at(name, 'fastify-rate-limit')]
    goals.push(
      atLeast(`Everyone allowed (${what}): Sluice vs the ceiling`, 0.75, sluice?.ratioToCeiling),
      atLeast(`Everyone allowed (${what}): Sluice vs @fastify/rate-limit`, 1.35, over(sluice?.medianRps, peer?.medianRps)),
    )
    const goal = `Script calls per request, ${what}, 50 connections`
    scriptCalls.push(check({ part: 'throughput', goal, bound: '≤', limit: 0.25, unit: 'calls', value: at50(sluice?.scriptCallsPerOk) }))
  }
  goals.push(
    atLeast('Everyone allowed (Express 5): @sluice/express vs Express alone', 0.75, at('express', 'express-sluice')?.ratioToCeiling),
    atLeast('Flood: Sluice vs the ceiling', 0.95, at('flood', 'sluice')?.ratioToCeiling),
    ...scriptCalls,
  )
  return goals
}

/** The sweep's goals are stated as medians over at least this many interleaved rounds. */
export const SWEEP_MIN_ROUNDS = 5

const redisUs = (r: RunSample): number => perResponseUs(r.redisCpuSeconds, r)
const totalUs = (r: RunSample): number => perResponseUs(r.appCpuSeconds + r.redisCpuSeconds, r)

/**
 * Latency and CPU against offered load: Sluice (its defaults) against @fastify/rate-limit and the
 * headers-only baseline at the same load, each a median over rounds of the ratio in one round.
 */
function sweepGoals(sweep: SweepResult | undefined): Goal[] {
  /** A paced load by its share of saturation, or the closed loop, or autocannon's fixed rate. */
  type Load = number | 'saturated' | 'autocannon'
  const levelAt = (load: Load): SweepLevel | undefined =>
    sweep?.levels.find((level) => {
      if (typeof load === 'number') return level.kind === 'paced' && level.share === load
      // The goals are stated for these loads: another rate or count of connections measures something else.
      if (load === 'autocannon') return level.kind === load && level.offeredRps === 2_000 && level.connections === 10
      return level.kind === load && level.connections === 50
    })
  const summary = (load: Load, target: TargetName): TargetSummary | undefined => {
    const t = levelAt(load)?.targets.find((x) => x.target === target)
    return t === undefined || t.unavailable !== undefined ? undefined : t
  }
  /** The median over rounds of f(Sluice's run, @fastify/rate-limit's, the baseline's) at one load. */
  const perRound = (load: Load, f: (sluice: RunSample, peer: RunSample, baseline: RunSample) => number): number | undefined => {
    const targets = [summary(load, 'sluice'), summary(load, 'fastify-rate-limit'), summary(load, sweep?.baseline ?? 'headers')]
    if (targets.some((t) => t === undefined)) return undefined
    return perRoundMedian(
      targets.map((t) => t!.samples),
      ([s, p, b]) => f(s!, p!, b!),
    )
  }
  const goal = (
    goal: string,
    bound: Spec['bound'],
    limit: number,
    load: Load,
    f: Parameters<typeof perRound>[1],
    unit: Spec['unit'] = '×',
  ): Goal =>
    check({
      part: 'sweep',
      goal,
      bound,
      limit,
      unit,
      value: perRound(load, f),
      from: [summary(load, 'sluice'), summary(load, 'fastify-rate-limit')],
    })
  // "Sluice adds no more than the peer" as a difference of what each adds over the baseline in
  // one round: a ratio has no meaning where the peer adds nothing or less than nothing (both
  // answer faster than the baseline at a light load), and leaving such rounds out judged the
  // goal on the rest.
  const addedOverPeer = (s: RunSample, p: RunSample, b: RunSample): number => s.meanMs - b.meanMs - (p.meanMs - b.meanMs)
  return [
    goal("25 % load: the mean latency Sluice adds over headers only, less @fastify/rate-limit's", '≤', 0, 0.25, addedOverPeer, 'ms'),
    goal("25 % load: Sluice's p99 latency ÷ @fastify/rate-limit's", '≤', 1.2, 0.25, (s, p) => s.p99Ms / p.p99Ms),
    goal(
      "autocannon, 2,000 req/s, 10 connections: the mean latency Sluice adds over headers only, less @fastify/rate-limit's",
      '≤',
      0,
      'autocannon',
      addedOverPeer,
      'ms',
    ),
    goal(
      "autocannon, 2,000 req/s, 10 connections: Sluice's p99 latency ÷ @fastify/rate-limit's",
      '≤',
      1.2,
      'autocannon',
      (s, p) => s.p99Ms / p.p99Ms,
    ),
    goal('Saturated: Sluice req/s ÷ headers only', '≥', 0.9, 'saturated', (s, _p, b) => s.rps / b.rps),
    goal('Saturated: Sluice req/s ÷ @fastify/rate-limit', '≥', 1.3, 'saturated', (s, p) => s.rps / p.rps),
    goal(
      // The script's fixed cost per call: at a light load a call carries few checks (the table shows how many).
      "10 % load: Sluice's Redis CPU per script call ÷ @fastify/rate-limit's per request",
      '≤',
      1,
      0.1,
      (s, p) => ratio(s.redisCpuSeconds, scriptCalls(s.commands)) / ratio(p.redisCpuSeconds, p.responses),
    ),
    goal("50 % load: Sluice's Redis CPU per request ÷ @fastify/rate-limit's", '≤', 0.8, 0.5, (s, p) => redisUs(s) / redisUs(p)),
    goal("50 % load: Sluice's app + Redis CPU per request ÷ @fastify/rate-limit's", '≤', 0.8, 0.5, (s, p) => totalUs(s) / totalUs(p)),
    goal("Saturated: Sluice's Redis CPU per request ÷ @fastify/rate-limit's", '≤', 0.25, 'saturated', (s, p) => redisUs(s) / redisUs(p)),
  ]
}

export function evaluateGoals(result: BenchResult): Goal[] {
  const memory = result.memory.find((m) => m.library === 'sluice')
  return [
    ...cpuGoals(result.cpu),
    ...throughputGoals(result),
    ...sweepGoals(result.sweep),
    check({
      part: 'memory',
      goal: 'Redis memory per idle key vs the floor',
      bound: '≤',
      limit: 1.1,
      unit: '×',
      value: memory?.ratioToFloor,
    }),
  ]
}
