import { fineMs, fixed, int, ms, signedMs, table, times, warnings } from './markdown-format.js'
import { mastersSection } from './markdown-masters.js'
import type { BenchResult, SweepLevel, SweepResult, SweepTarget } from './results.js'
import { levelName } from './sweep.js'
import { LATENCY_CHART, REDIS_CPU_CHART } from './sweep-charts.js'
import { fill, notMeasured } from './template.js'

const measured = (level: SweepLevel): SweepTarget[] => level.targets.filter((t) => t.unavailable === undefined)

function heading(level: SweepLevel): string {
  switch (level.kind) {
    case 'saturated':
      return fill('sweep-level-saturated', { connections: level.connections })
    case 'autocannon':
      return fill('sweep-level-autocannon', { rate: int(level.offeredRps ?? Number.NaN), connections: level.connections })
    case 'paced':
      return fill('sweep-level-paced', { share: levelName(level), rate: int(level.offeredRps ?? Number.NaN) })
  }
}

function levelTable(sweep: SweepResult, level: SweepLevel): string {
  // autocannon keeps whole milliseconds; its mean here is connections ÷ throughput (Little's law).
  // The closed loop's quantiles are autocannon's histogram's, in whole milliseconds.
  const fine = level.kind !== 'saturated'
  const quantile = fine ? fineMs : ms
  const rows = measured(level).map((t) => {
    const isBaseline = t.target === sweep.baseline
    return [
      isBaseline || t.target === sweep.ceiling ? `**${t.label}**` : t.label,
      fineMs(t.meanMs),
      quantile(t.p50Ms),
      quantile(t.p99Ms),
      isBaseline ? '0' : signedMs(t.addedMeanMs),
      isBaseline ? '0' : fine ? signedMs(t.addedP99Ms) : '–',
      fixed(t.appUs, 1),
      fixed(t.redisUs, 1),
      fixed(t.totalUs, 1),
      fixed(t.commandsPerResponse, 3),
      fixed(t.scriptCallsPerResponse, 3),
      `${int(t.medianRps)}${t.keptUp ? '' : ' ⚠'}`,
      level.kind === 'saturated' && !isBaseline ? times(t.pairedRatioToBaseline) : '–',
    ]
  })
  const missing = level.targets
    .filter((t) => t.unavailable !== undefined)
    .map((t) => [t.label, `not measured: ${t.unavailable}`, ...Array(11).fill('')])
  return table(
    [
      'Target',
      'Mean ms',
      'p50 ms',
      'p99 ms',
      'Mean added ms',
      'p99 added ms',
      'App µs/req',
      'Redis µs/req',
      'App + Redis µs/req',
      'Redis commands/req',
      'Script calls/req',
      'Answered req/s',
      '× headers only, per round',
    ],
    [...rows, ...missing],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  )
}

/** The sweep's part of docs/benchmarks.md: how it was run, its two charts, a table per load. */
export function sweepSection(result: BenchResult): string {
  const { sweep } = result
  if (sweep === undefined) return notMeasured('sweep')
  const plan = result.config.sweep
  const levels = sweep.levels.map((level) =>
    fill('sweep-level', { heading: heading(level), table: levelTable(sweep, level), warnings: warnings(measured(level)) }),
  )
  return fill('sweep', {
    connections: plan.connections,
    seconds: plan.seconds,
    saturation: int(sweep.saturationRps),
    samples: sweep.saturationSamples.map((rps) => int(rps)).join(', '),
    shares: plan.shares.map((share) => `${Math.round(share * 100)} %`).join(', '),
    autocannonRate: int(plan.autocannonRate),
    autocannonConnections: plan.autocannonConnections,
    rounds: plan.rounds,
    roundWord: plan.rounds === 1 ? 'round' : 'rounds',
    latencyChart: LATENCY_CHART,
    redisCpuChart: REDIS_CPU_CHART,
    levels: levels.join('\n\n'),
    masters: mastersSection(sweep),
  })
}
