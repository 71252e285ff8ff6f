import { fineMs, fixed, int, ms, signedMs, table, times, warnings } from './markdown-format.js'
import type { BenchResult, SweepLevel, SweepResult, SweepTarget } from './results.js'
import { levelName } from './sweep.js'
import { LATENCY_CHART, REDIS_CPU_CHART } from './sweep-charts.js'

const measured = (level: SweepLevel): SweepTarget[] => level.targets.filter((t) => t.unavailable === undefined)

function heading(level: SweepLevel): string {
  switch (level.kind) {
    case 'saturated':
      return `### Saturated: closed loop, ${level.connections} connections`
    case 'autocannon':
      return `### autocannon at ${int(level.offeredRps ?? Number.NaN)} req/s, ${level.connections} connections`
    case 'paced':
      return `### ${levelName(level)} of saturation: ${int(level.offeredRps ?? Number.NaN)} req/s offered`
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
export function sweepSection(result: BenchResult): string[] {
  const { sweep } = result
  if (sweep === undefined) return ['## Latency and CPU against offered load', '', 'Not measured in this run.']
  const plan = result.config.sweep
  const shares = plan.shares.map((share) => `${Math.round(share * 100)} %`).join(', ')
  const samples = sweep.saturationSamples.map((rps) => int(rps)).join(', ')
  return [
    '## Latency and CPU against offered load',
    '',
    `How fast each target answers, and what a request costs, from a quiet server to a saturated one. First the`,
    `headers-only baseline is saturated (a closed loop of ${plan.connections} connections, ${plan.seconds} s per run): **${int(sweep.saturationRps)} req/s**,`,
    `the median of ${samples}. Every target is then offered ${shares} of that rate, paced as in the`,
    `fixed-load part (an open loop, at most ${plan.connections} requests in flight), then saturated with the same closed loop, and last`,
    `offered ${int(plan.autocannonRate)} req/s by autocannon's \`overallRate\` on ${plan.autocannonConnections} connections (not paced: what a user who benchmarks with`,
    'autocannon sees; not on the charts).',
    `${plan.rounds} interleaved round${plan.rounds === 1 ? '' : 's'} of ${plan.seconds} s runs, each every load and every target; the figures are medians over`,
    'rounds, and "added" is the median over rounds of a target\'s mean (or p99) latency minus the baseline\'s at the',
    'same load in the same round. Paced latency is measured from when each request was due, to the µs; the closed',
    "loop's p50 and p99 are autocannon's (whole milliseconds) and its mean is connections ÷ throughput (Little's law);",
    "at autocannon's fixed rate all three are from each response's time as autocannon took it (from when it sent the",
    'request), to the µs.',
    'The bucket never empties, so every limiter answers every request 200.',
    '',
    'On the charts, a load a target could not keep up with (⚠ in its table) is left off its line: its figures are',
    "a queue's, not that load's.",
    '',
    `![Mean latency added over headers only against offered load](${LATENCY_CHART})`,
    '',
    `![Redis CPU per request against offered load](${REDIS_CPU_CHART})`,
    '',
    ...sweep.levels.flatMap((level) => [heading(level), '', levelTable(sweep, level), ...warnings(measured(level)), '']),
  ]
}
