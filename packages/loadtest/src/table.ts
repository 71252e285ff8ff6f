import { degradedNote, runBound } from './bound-text.js'
import type { Comparison } from './compare.js'
import { count, describeLoad, ms, percent, rate, seconds, times } from './format.js'
import { inflightLine } from './inflight-text.js'
import type { Progress } from './run.js'
import { SCENARIOS } from './scenarios.js'
import type { SuiteOptions } from './suite.js'
import type { Report } from './types.js'

/** Columns: the first left-aligned, the rest right-aligned. */
function grid(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map(
    (r) =>
      indent +
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('   ')
        .trimEnd(),
  )
}

const MODE = { shared: 'one shared Redis', local: 'no Redis: each replica on its own' } as const
const KEYS = { ip: 'keyed by client IP', 'api-key': 'keyed by API key' } as const

/** A run as a readable block of text: what was sent, which replica answered what, the verdict. */
export function formatTable(r: Report): string {
  const lines = [
    `${r.scenario}: ${r.title}`,
    `  ${MODE[r.mode]} · ${KEYS[r.keyMode]} · capacity ${count(r.capacity)}, refill ${rate(r.refillPerSecond)} · ${describeLoad(r.load)} · ${seconds(r.elapsedSeconds)}`,
    '',
    ...grid([
      ['replica', 'requests', '200 admitted', '429 limited'],
      ...r.replicas.map((x) => [x.id, count(x.requests), count(x.admitted), count(x.limited)]),
      ['total', count(r.totals.requests), count(r.totals.admitted), count(r.totals.limited)],
    ]),
    '',
  ]
  const bound = runBound(r)
  if (SCENARIOS[r.scenario].measure === 'in-flight') {
    lines.push(inflightLine(r))
  } else if (SCENARIOS[r.scenario].measure === 'tokens') {
    const c = r.clients[0]
    lines.push(
      `  received ${count(c?.admitted ?? 0)} tokens in ${count(r.totals.admitted)} streamed answers, of at most ${bound}: ${percent(c?.share ?? 0)}`,
    )
  } else if (!r.saturating) {
    lines.push(`  admitted ${count(r.totals.admitted)} of ${count(r.totals.requests)} requests; at most ${bound} were allowed`)
  } else if (r.clients.length === 1) {
    lines.push(`  admitted ${count(r.clients[0]!.admitted)} of at most ${bound}: ${percent(r.clients[0]!.share)}`)
  } else {
    const sorted = [...r.clients].sort((a, b) => a.share - b.share)
    const lo = sorted[0]!
    const hi = sorted[sorted.length - 1]!
    lines.push(
      `  admitted per client, of at most ${bound} each: lowest ${count(lo.admitted)} (${percent(lo.share)}), highest ${count(hi.admitted)} (${percent(hi.share)})`,
    )
  }
  lines.push(`  latency  p50 ${ms(r.latencyMs.p50)} · p90 ${ms(r.latencyMs.p90)} · p99 ${ms(r.latencyMs.p99)}`)
  if (r.totals.other > 0 || r.totals.errors > 0) {
    lines.push(`  also ${count(r.totals.other)} responses with another status and ${count(r.totals.errors)} requests without an answer`)
  }
  const degraded = degradedNote(r)
  if (degraded !== undefined) lines.push(`  ${degraded}`)
  lines.push(`  ${r.summary}`)
  return lines.join('\n')
}

/** Shared Redis against each replica alone, scenario by scenario. */
export function formatComparison(comparisons: readonly Comparison[]): string {
  if (comparisons.length === 0) return ''
  return [
    'Shared Redis against each replica on its own (the most one client got, ÷ what one global limit allows)',
    '',
    ...grid([
      ['scenario', 'shared Redis', 'each replica alone', ''],
      ...comparisons.map((c) => [c.scenario, percent(c.shared), percent(c.local), `${times(c.factor)} as much`]),
    ]),
  ].join('\n')
}

/** One line while a scenario runs. */
export function formatProgress(p: Progress): string {
  const at = `${Math.min(p.elapsedSeconds, p.durationSeconds).toFixed(0)}/${p.durationSeconds} s`
  return `  ${p.scenario.padEnd(12)} ${at.padStart(6)}   ${count(p.requests).padStart(7)} requests   ${count(p.admitted).padStart(5)} admitted   ${count(p.limited).padStart(7)} limited`
}

/** A suite's progress as the CLIs print it: a line as each scenario starts, and one a second while it runs. */
export function progressLines(say: (line: string) => void): Pick<SuiteOptions, 'onScenario' | 'onProgress'> {
  return { onScenario: (s) => say(`▸ ${s}: ${SCENARIOS[s].title}`), onProgress: (p) => say(formatProgress(p)) }
}
