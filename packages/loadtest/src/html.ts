import { degradedNote, runBound } from './bound-text.js'
import { boundChart, type CumulativeSeries, escapeXml, lineChart } from './chart.js'
import { compareReports } from './compare.js'
import { count, describeLoad, ms, percent, rate, seconds, times } from './format.js'
import { inflightLine } from './inflight-text.js'
import { SCENARIOS } from './scenarios.js'
import type { Report } from './types.js'

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 8px; }
section { background: #fff; border: 1px solid #e3e3e3; border-left: 6px solid #999; border-radius: 6px; padding: 16px 20px; margin: 18px 0; }
section.pass { border-left-color: #009E73; } section.fail { border-left-color: #D55E00; } section.local { border-left-color: #E69F00; }
.badge { font-size: 12px; font-weight: 700; padding: 2px 8px; border-radius: 10px; color: #fff; background: #999; vertical-align: middle; }
.pass .badge { background: #009E73; } .fail .badge { background: #D55E00; } .local .badge { background: #E69F00; }
.summary { font-weight: 600; }
.meta { color: #666; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 3px 12px; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
`

function status(r: Report): 'pass' | 'fail' | 'local' {
  if (r.mode === 'local' && r.saturating) return 'local'
  return r.verdict.pass ? 'pass' : 'fail'
}

const BADGE = { pass: 'PASS', fail: 'FAIL', local: 'NO SHARED REDIS' } as const

function clientName(r: Report): string {
  const who = r.clients.length === 1 ? `client ${r.timeline.worstOff.label}` : `worst-off of ${r.clients.length} clients`
  return r.mode === 'local' ? `each replica on its own: ${who}` : who
}

/**
 * The claim at a glance: the worst-off client's admitted requests, added up, under the line one
 * token bucket allows; beside a shared run, the same load on replicas that do not share Redis
 * (`pnpm demo --compare-local`), far above it.
 */
function boundFigure(r: Report, all: readonly Report[]): string {
  const curve = (x: Report): CumulativeSeries => ({ name: clientName(x), seconds: x.elapsedSeconds, values: x.timeline.worstOff.admitted })
  const local = r.mode === 'shared' ? all.find((x) => x.mode === 'local' && x.scenario === r.scenario) : undefined
  return boundChart({
    // The line is the shared bucket's: a client's degraded admissions may lift its curve above it.
    title:
      r.totals.degradedAdmitted === 0
        ? 'requests admitted so far, against what one bucket allows'
        : 'requests admitted so far, against what one bucket allows (degraded admissions come on top of the line)',
    capacity: r.capacity,
    refillPerSecond: r.refillPerSecond,
    series: local === undefined ? [curve(r)] : [curve(r), curve(local)],
  })
}

function section(r: Report, all: readonly Report[]): string {
  const s = status(r)
  const rows = r.replicas.map(
    (x) => `<tr><td>${escapeXml(x.id)}</td><td>${count(x.requests)}</td><td>${count(x.admitted)}</td><td>${count(x.limited)}</td></tr>`,
  )
  const inflight = SCENARIOS[r.scenario].measure === 'in-flight'
  const charts = [
    // The inflight scenario's route takes no token: its claim is in the summary, not under a bucket's line.
    ...(inflight ? [] : [boundFigure(r, all)]),
    lineChart({
      title: 'admitted (200) per second, by replica',
      series: r.timeline.replicas.map((x) => ({ name: x.id, values: x.admitted })),
    }),
    lineChart({
      title: 'limited (429) per second, by replica',
      series: r.timeline.replicas.map((x) => ({ name: x.id, values: x.limited })),
    }),
  ]
  const mode = r.mode === 'shared' ? 'one shared Redis' : 'no Redis: each replica on its own'
  const degraded = degradedNote(r)
  return `<section class="${s}" id="${escapeXml(`${r.scenario}-${r.mode}`)}">
<h2>${escapeXml(r.scenario)}: ${escapeXml(r.title)} <span class="badge">${BADGE[s]}</span></h2>
<p class="summary">${escapeXml(r.summary)}</p>
<p class="meta">${escapeXml(mode)} · keyed by ${r.keyMode === 'ip' ? 'client IP' : 'API key'} · capacity ${count(r.capacity)}, refill ${rate(r.refillPerSecond)} ·
${describeLoad(r.load)} · ${seconds(r.elapsedSeconds)} · ${escapeXml(inflight ? inflightLine(r).trim() : `at most ${runBound(r)} admitted per client`)} ·
latency p50 ${ms(r.latencyMs.p50)}, p90 ${ms(r.latencyMs.p90)}, p99 ${ms(r.latencyMs.p99)}</p>
${degraded === undefined ? '' : `<p class="meta">${escapeXml(degraded)}</p>`}
<table><thead><tr><th>replica</th><th>requests</th><th>200 admitted</th><th>429 limited</th></tr></thead>
<tbody>${rows.join('')}</tbody>
<tfoot><tr><th>total</th><th>${count(r.totals.requests)}</th><th>${count(r.totals.admitted)}</th><th>${count(r.totals.limited)}</th></tr></tfoot></table>
<div class="charts">${charts.join('')}</div>
</section>`
}

function comparison(reports: readonly Report[]): string {
  const rows = compareReports(reports).map(
    (c) => `<tr><td>${escapeXml(c.scenario)}</td><td>${percent(c.shared)}</td><td>${percent(c.local)}</td><td>${times(c.factor)}</td></tr>`,
  )
  if (rows.length === 0) return ''
  return `<section><h2>Shared Redis against each replica on its own</h2>
<p>The most one client got through, as a share of what one global limit allows.</p>
<table><thead><tr><th>scenario</th><th>shared Redis</th><th>each replica alone</th><th>factor</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`
}

/** What a caller adds to the page beyond the runs, e.g. the replicas' own metrics. */
export interface HtmlExtras {
  /** Paragraphs under "Notes", as plain text. */
  readonly notes?: readonly string[]
}

/** A self-contained HTML page (inline CSS and SVG, no script, nothing fetched) for one or more runs. */
export function renderHtml(reports: Report | readonly Report[], extras: HtmlExtras = {}): string {
  const list: readonly Report[] = Array.isArray(reports) ? reports : [reports as Report]
  const when = list[0]?.startedAt ?? new Date().toISOString()
  const gateways = [...new Set(list.map((r) => r.gatewayUrl))].join(', ')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice load test, ${escapeXml(when)}</title><style>${STYLE}</style></head>
<body><main>
<h1>Sluice load test</h1>
<p class="meta">${escapeXml(when)} · gateway ${escapeXml(gateways)} · a client may be admitted at most capacity + refill × elapsed requests, however many replicas answer it</p>
${comparison(list)}
${list.map((r) => section(r, list)).join('\n')}
${extras.notes !== undefined && extras.notes.length > 0 ? `<section><h2>Notes</h2>${extras.notes.map((n) => `<p>${escapeXml(n)}</p>`).join('')}</section>` : ''}
</main></body></html>
`
}
