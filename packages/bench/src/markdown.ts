import { evaluateGoals, type Goal, SWEEP_MIN_ROUNDS } from './goals.js'
import { count, fineMs, fixed, int, ms, percent, signedUs, table, times, warnings } from './markdown-format.js'
import { sweepSection } from './markdown-sweep.js'
import type { BenchResult, ScenarioResult, TargetSummary } from './results.js'
import { TARGETS } from './targets/catalog.js'
import { fill, notMeasured } from './template.js'

export interface MarkdownOptions {
  /** The exact command that produced the result. */
  readonly command: string
}

function verdict(goal: Goal): string {
  const result = goal.met === undefined ? 'not measured' : goal.met ? '**met**' : '**missed**'
  return goal.behind.length > 0 ? `${result} ⚠` : result
}

function mix(t: TargetSummary): string {
  const entries = Object.entries(t.commandMix)
    .filter(([, perResponse]) => perResponse >= 0.0005)
    .sort((a, b) => b[1] - a[1])
  return entries.length === 0 ? 'none' : entries.map(([command, perResponse]) => `${command} ${perResponse.toFixed(3)}`).join(', ')
}

function measured(s: ScenarioResult): TargetSummary[] {
  return s.targets.filter((t) => t.unavailable === undefined)
}

const isSluice = (t: TargetSummary): boolean => t.target === 'sluice' || t.target === 'sluice-capped' || t.target === 'express-sluice'

/** The label in bold for the targets the others are compared with. */
function label(s: ScenarioResult, t: TargetSummary): string {
  return t.target === s.ceiling || t.target === s.baseline ? `**${t.label}**` : t.label
}

function notMeasuredRows(s: ScenarioResult, width: number): string[][] {
  return s.targets
    .filter((t) => t.unavailable !== undefined)
    .map((t) => [t.label, `not measured: ${t.unavailable}`, ...Array(width - 2).fill('')])
}

function answers(t: TargetSummary): string {
  const parts: string[] = []
  if (t.ok > 0) parts.push(`2xx ${percent(t.ok, t.responses)}`)
  if (t.denied > 0) parts.push(`429 ${percent(t.denied, t.responses)}`)
  if (t.failures > 0) parts.push(`**other ${int(t.failures)}**`)
  return parts.join(', ') || '–'
}

function cpuScenarioSection(s: ScenarioResult): string {
  const rows = measured(s).map((t) => [
    label(s, t),
    fixed(t.appUs, 1),
    `${fixed(t.minAppUs, 1)} – ${fixed(t.maxAppUs, 1)}`,
    fixed(t.redisUs, 1),
    fixed(t.totalUs, 1),
    fixed(t.commandsPerResponse, 3),
    fineMs(t.p50Ms),
    fineMs(t.p99Ms),
    `${int(t.medianRps)}${t.keptUp ? '' : ' ⚠'}`,
    answers(t),
    t.response === undefined ? '–' : `${t.response.status}, ${t.response.bytes} B`,
  ])
  const figures = table(
    [
      'Target',
      'App µs/req',
      'App µs/req, range over rounds',
      'Redis µs/req',
      'App + Redis µs/req',
      'Redis commands/req',
      'p50 ms',
      'p99 ms',
      'Answered req/s',
      'Answers',
      'Response',
    ],
    [...rows, ...notMeasuredRows(s, 11)],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r'],
  )
  const baseline = measured(s).find((t) => t.target === s.baseline)
  const peer = measured(s).find((t) => t.target === 'fastify-rate-limit')
  const comparisons: string[] = []
  for (const sluice of measured(s).filter(isSluice)) {
    if (baseline !== undefined) {
      comparisons.push(
        fill('cpu-over-baseline', {
          sluice: sluice.label,
          baseline: baseline.label.replace(/, no limiter$/, ''),
          app: signedUs(sluice.appUs - baseline.appUs),
          total: signedUs(sluice.totalUs - baseline.totalUs),
        }),
      )
    }
    if (peer !== undefined) {
      comparisons.push(
        fill('cpu-over-peer', {
          sluice: sluice.label,
          peer: peer.label,
          redis: times(sluice.redisUs / peer.redisUs),
          total: times(sluice.totalUs / peer.totalUs),
        }),
      )
    }
  }
  return fill('cpu-scenario', {
    title: s.title,
    description: s.description,
    capacity: int(s.limits.capacity),
    refill: int(s.limits.refillPerSecond),
    offered: int(s.offeredRps ?? Number.NaN),
    table: figures,
    comparisons: comparisons.join('\n\n'),
    warnings: warnings(measured(s)),
  })
}

function throughputScenarioSection(s: ScenarioResult): string {
  const rows = measured(s).map((t) => [
    label(s, t),
    int(t.medianRps),
    `${int(t.minRps)} – ${int(t.maxRps)}`,
    t.target === s.ceiling ? '1.00×' : times(t.ratioToCeiling),
    t.target === s.ceiling ? '1.00×' : times(t.pairedRatioToCeiling),
    t.target === s.baseline ? '1.00×' : times(t.ratioToBaseline),
    t.target === s.baseline ? '1.00×' : times(t.pairedRatioToBaseline),
    ms(t.p50Ms),
    ms(t.p99Ms),
    answers(t),
  ])
  const sluice = measured(s).find((t) => t.target === 'sluice')
  const peer = measured(s).find((t) => t.target === 'fastify-rate-limit')
  return fill('throughput-scenario', {
    title: s.title,
    description: s.description,
    capacity: int(s.limits.capacity),
    refill: int(s.limits.refillPerSecond),
    table: table(
      [
        'Target',
        'Median req/s',
        'Range over rounds',
        '× ceiling',
        '× ceiling, per round',
        "× Sluice's answer, no limiter",
        '× same, per round',
        'p50 ms',
        'p99 ms',
        'Answers',
      ],
      [...rows, ...notMeasuredRows(s, 10)],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
    versusPeer:
      sluice !== undefined && peer !== undefined ? fill('throughput-over-peer', { ratio: times(sluice.medianRps / peer.medianRps) }) : '',
    warnings: warnings(measured(s)),
  })
}

function accountingTable(scenarios: readonly ScenarioResult[]): string {
  const rows: string[][] = []
  for (const s of scenarios) {
    for (const t of measured(s)) {
      if (!TARGETS[t.target].limits) continue
      // Per 2xx means nothing where almost every answer is a 429.
      const perOk = s.expect === 'allowed' ? fixed(t.scriptCallsPerOk, 3) : '–'
      rows.push([s.title, t.label, perOk, fixed(t.scriptCallsPerResponse, 3), fixed(t.commandsPerResponse, 3), mix(t)])
    }
  }
  return table(
    [
      'Scenario',
      'Target',
      'Script calls per 2xx',
      'Script calls per response',
      'Redis commands per response',
      'Commands per response, by name',
    ],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'l'],
  )
}

function memoryTable(result: BenchResult): string {
  return table(
    ['Library', 'Key (first of them)', 'Value', 'TTL set', 'Bytes per key', 'Floor: SET key value PX ttl', '× floor'],
    result.memory.map((m) => [
      m.label,
      `\`${m.exampleKey}\``,
      `\`${m.exampleValue}\``,
      `${Math.round(m.ttlMs / 1000)} s`,
      fixed(m.bytesPerKey, 1),
      fixed(m.floorBytesPerKey, 1),
      times(m.ratioToFloor),
    ]),
    ['l', 'l', 'l', 'r', 'r', 'r', 'r'],
  )
}

const PART_NAMES: Record<Goal['part'], string> = {
  cpu: 'CPU per request',
  throughput: 'Throughput',
  sweep: 'Latency sweep',
  memory: 'Memory',
}

function goalsSection(goals: readonly Goal[], result: BenchResult): string {
  const behind = [...new Set(goals.flatMap((g) => g.behind))]
  const { rounds } = result.config.sweep
  return fill('goals', {
    table: table(
      ['Measured by', 'Target', 'Goal', 'Measured', 'Verdict'],
      goals.map((g) => [PART_NAMES[g.part], g.goal, g.threshold, g.measured, verdict(g)]),
      ['l', 'l', 'r', 'r', 'l'],
    ),
    behind: behind.length > 0 ? fill('goals-behind', { targets: behind.join('; ') }) : '',
    fewRounds:
      result.sweep !== undefined && rounds < SWEEP_MIN_ROUNDS
        ? fill('goals-few-rounds', { rounds: count(rounds, 'round'), minRounds: SWEEP_MIN_ROUNDS })
        : '',
  })
}

function cpuSection(result: BenchResult): string {
  if (result.cpu.length === 0) return notMeasured('cpu')
  return fill('cpu', { rate: int(result.config.cpu.rate), scenarios: result.cpu.map(cpuScenarioSection).join('\n\n') })
}

function throughputSection(result: BenchResult): string {
  if (result.throughput.length === 0) return notMeasured('throughput')
  return fill('throughput', { scenarios: result.throughput.map(throughputScenarioSection).join('\n\n') })
}

function accountingSection(result: BenchResult): string {
  const tables: string[] = []
  if (result.cpu.length > 0) tables.push(fill('accounting-fixed-load', { table: accountingTable(result.cpu) }))
  if (result.throughput.length > 0) tables.push(fill('accounting-full-throughput', { table: accountingTable(result.throughput) }))
  return tables.length === 0 ? '' : fill('accounting', { tables: tables.join('\n\n') })
}

function memoryPart(result: BenchResult): string {
  if (result.memory.length === 0) return notMeasured('memory')
  return fill('memory', { keys: int(result.memory[0]!.keys), table: memoryTable(result) })
}

/** How each part loaded its targets. */
function loadLines(result: BenchResult): string {
  const { cpu, throughput } = result.config
  const warmup = (seconds: number): string => (seconds > 0 ? fill('warmup', { seconds }) : '')
  const lines: string[] = []
  if (result.cpu.length > 0) {
    lines.push(
      fill('load-cpu', {
        rate: int(cpu.rate),
        seconds: cpu.seconds,
        rounds: count(cpu.rounds, 'round'),
        warmup: warmup(cpu.warmupSeconds),
        connections: cpu.connections,
      }),
    )
  }
  if (result.throughput.length > 0) {
    lines.push(
      fill('load-throughput', {
        connections: throughput.connections,
        seconds: throughput.seconds,
        rounds: count(throughput.rounds, 'round'),
        warmup: warmup(throughput.warmupSeconds),
      }),
    )
  }
  return lines.join('\n')
}

/** docs/benchmarks.md: how the figures were made, then the figures. */
export function renderMarkdown(result: BenchResult, options: MarkdownOptions): string {
  const { machine } = result
  const minutes = (result.finishedAt.getTime() - result.startedAt.getTime()) / 60_000
  const document = fill('document', {
    smokeNote: result.config.smoke ? fill('smoke-note') : '',
    command: options.command,
    date: result.startedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    minutes: minutes.toFixed(1),
    cpu: machine.cpu,
    cores: machine.cores,
    memoryGiB: machine.memoryGiB,
    node: machine.node,
    redis: machine.redis,
    load: machine.loadAtStart.toFixed(2),
    packages: Object.entries(machine.packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(', '),
    loads: loadLines(result),
    goals: goalsSection(evaluateGoals(result), result),
    cpuPart: cpuSection(result),
    throughputPart: throughputSection(result),
    sweepPart: sweepSection(result),
    accountingPart: accountingSection(result),
    memoryPart: memoryPart(result),
  })
  // A part that did not run leaves its blank lines behind: one is enough.
  return `${document}\n`.replace(/\n{3,}/g, '\n\n')
}
