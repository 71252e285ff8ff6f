/** Small line charts as inline SVG: no script, no stylesheet, no network. */

export interface Series {
  readonly name: string
  readonly values: readonly number[]
}

export interface ChartOptions {
  readonly title: string
  readonly series: readonly Series[]
  readonly width?: number
  readonly height?: number
}

// Distinguishable for the common colour-vision deficiencies (Okabe–Ito).
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'] as const
// Replicas that answer alike draw the same line; dashes keep the ones underneath visible.
const DASHES = ['', '7 4', '2 3', '10 3 2 3'] as const

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The smallest of 1, 2, 5 × 10^k at or above `value`, so the axis reads in round numbers. */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1
  const magnitude = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude
  return 10 * magnitude
}

const round = (n: number): string => String(Math.round(n * 10) / 10)
const dashOf = (n: number): string => (DASHES[n % DASHES.length] === '' ? '' : ` stroke-dasharray="${DASHES[n % DASHES.length]}"`)

interface LegendEntry {
  readonly name: string
  readonly color: string
  readonly dash?: string
}

const LEGEND_ROW = 15

/** The plot area of a chart, and the parts every chart draws alike: title, legend, value grid, axis. */
class Frame {
  readonly m = { left: 52, right: 14, top: 34, bottom: 30 }
  readonly plotW: number
  readonly plotH: number
  /** Where each legend entry starts: side by side, each as wide as its name, in as many rows as it takes. */
  private readonly legendAt: readonly { readonly x: number; readonly y: number }[]

  constructor(
    readonly width: number,
    readonly height: number,
    /** The value at the top of the plot. */
    readonly top: number,
    private readonly legend: readonly LegendEntry[],
    /** The value at the bottom: 0, or below it for a line that can go negative. */
    readonly bottom = 0,
  ) {
    let x = this.m.left
    let y = 20
    this.legendAt = legend.map((e) => {
      const w = 30 + e.name.length * 6
      if (x > this.m.left && x + w > width - this.m.right) {
        x = this.m.left
        y += LEGEND_ROW
      }
      const at = { x, y }
      x += w
      return at
    })
    this.m.top += y - 20
    this.plotW = width - this.m.left - this.m.right
    this.plotH = height - this.m.top - this.m.bottom
  }

  y(value: number): number {
    return this.m.top + this.plotH - ((value - this.bottom) / (this.top - this.bottom)) * this.plotH
  }

  /** A tick label under the plot at `x`. */
  tick(x: number, label: string): string {
    return `<text x="${round(x)}" y="${this.height - this.m.bottom + 16}" text-anchor="middle">${escapeXml(label)}</text>`
  }

  svg(className: string, title: string, xLabel: string, body: string): string {
    const t = escapeXml(title)
    // Below zero, the grid marks zero itself: where "no difference" is.
    const levels = this.bottom === 0 ? [0, this.top / 2, this.top] : [this.bottom, 0, this.top]
    const grid = levels.map((value) => {
      const y = round(this.y(value))
      return (
        `<line x1="${this.m.left}" x2="${this.m.left + this.plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>` +
        `<text x="${this.m.left - 6}" y="${round(this.y(value) + 4)}" text-anchor="end">${round(value)}</text>`
      )
    })
    const keys = this.legend.map((e, i) => {
      const { x, y } = this.legendAt[i]!
      const key =
        e.dash === undefined
          ? `<rect x="${x}" y="${y}" width="10" height="10" fill="${e.color}"/>`
          : `<line x1="${x}" x2="${x + 10}" y1="${y + 5}" y2="${y + 5}" stroke="${e.color}" stroke-width="2" stroke-dasharray="${e.dash}"/>`
      return `${key}<text x="${x + 14}" y="${y + 9}">${escapeXml(e.name)}</text>`
    })
    return (
      `<svg class="chart ${className}" xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" role="img" aria-label="${t}" font-family="system-ui, sans-serif" font-size="11" fill="#333">` +
      `<title>${t}</title><text x="${this.m.left}" y="13" font-size="13" font-weight="600">${t}</text>${keys.join('')}${grid.join('')}` +
      `<line x1="${this.m.left}" x2="${this.m.left}" y1="${this.m.top}" y2="${this.m.top + this.plotH}" stroke="#999"/>` +
      `<text x="${this.m.left + this.plotW}" y="${this.height - 2}" text-anchor="end">${escapeXml(xLabel)}</text>${body}</svg>`
    )
  }
}

/** One point per second of the run, each in the middle of its second, one line per series. */
export function lineChart(options: ChartOptions): string {
  const points = Math.max(1, ...options.series.map((s) => s.values.length))
  const legend = options.series.map((s, n) => ({ name: s.name, color: PALETTE[n % PALETTE.length]! }))
  const top = niceCeiling(Math.max(0, ...options.series.flatMap((s) => s.values)))
  const frame = new Frame(options.width ?? 560, options.height ?? 220, top, legend)
  const x = (i: number): number => frame.m.left + ((i + 0.5) / points) * frame.plotW
  const ticks = Array.from({ length: points }, (_, i) => i)
    .filter((i) => points <= 12 || i % Math.ceil(points / 12) === 0)
    .map((i) => frame.tick(x(i), String(i + 1)))
  const series = options.series.map((s, n) => {
    const color = PALETTE[n % PALETTE.length]!
    const coords = s.values.map((v, i) => `${round(x(i))},${round(frame.y(v))}`)
    const dots = s.values.map((v, i) => `<circle cx="${round(x(i))}" cy="${round(frame.y(v))}" r="3" fill="${color}"/>`).join('')
    return `<g class="series" data-replica="${escapeXml(s.name)}"><polyline fill="none" stroke="${color}" stroke-width="2"${dashOf(n)} points="${coords.join(' ')}"/>${dots}</g>`
  })
  return frame.svg('per-replica', options.title, 'second of the run', ticks.join('') + series.join(''))
}

export interface CumulativeSeries {
  readonly name: string
  /** The span the values cover, from 0: they are evenly spaced over it, both ends included. */
  readonly seconds: number
  readonly values: readonly number[]
}

export interface BoundChartOptions {
  readonly title: string
  readonly capacity: number
  readonly refillPerSecond: number
  readonly series: readonly CumulativeSeries[]
  readonly width?: number
  readonly height?: number
}

const BOUND_COLOR = '#000000'
const BOUND_DASH = '6 4'
// The client's line, and the same load on replicas that do not share Redis.
const CUMULATIVE_COLORS = [PALETTE[0], PALETTE[5], PALETTE[3]] as const

/**
 * Requests admitted so far against time, under the straight line `capacity + refill × t` that one
 * token bucket allows: a global limit keeps every curve under it.
 */
export function boundChart(options: BoundChartOptions): string {
  const span = Math.max(0.001, ...options.series.map((s) => s.seconds))
  const boundAt = (t: number): number => options.capacity + options.refillPerSecond * t
  const legend: LegendEntry[] = [
    { name: `at most ${options.capacity} + ${Number(options.refillPerSecond.toFixed(2))}/s × t`, color: BOUND_COLOR, dash: BOUND_DASH },
    ...options.series.map((s, n) => ({ name: s.name, color: CUMULATIVE_COLORS[n % CUMULATIVE_COLORS.length]! })),
  ]
  const top = niceCeiling(Math.max(boundAt(span), ...options.series.flatMap((s) => s.values)))
  const frame = new Frame(options.width ?? 560, options.height ?? 240, top, legend)
  const x = (t: number): number => frame.m.left + (t / span) * frame.plotW
  const step = niceCeiling(span / 8)
  const ticks = Array.from({ length: Math.floor(span / step) + 1 }, (_, i) => frame.tick(x(i * step), `${round(i * step)}`))
  const bound =
    `<g class="bound"><line x1="${round(x(0))}" y1="${round(frame.y(boundAt(0)))}" x2="${round(x(span))}" y2="${round(frame.y(boundAt(span)))}" ` +
    `stroke="${BOUND_COLOR}" stroke-width="1.5" stroke-dasharray="${BOUND_DASH}"/></g>`
  const series = options.series.map((s, n) => {
    const color = CUMULATIVE_COLORS[n % CUMULATIVE_COLORS.length]!
    const dx = s.values.length > 1 ? s.seconds / (s.values.length - 1) : 0
    const coords = s.values.map((v, i) => `${round(x(i * dx))},${round(frame.y(v))}`)
    return `<g class="series" data-series="${escapeXml(s.name)}"><polyline fill="none" stroke="${color}" stroke-width="2" points="${coords.join(' ')}"/></g>`
  })
  // The line last, so a curve that follows it never hides it.
  return frame.svg('bound', options.title, 'seconds into the run', ticks.join('') + series.join('') + bound)
}

export interface XyPoint {
  readonly x: number
  readonly y: number
}

export interface XySeries {
  readonly name: string
  /** Which colour and dash to draw with (an index): by default the series' position, so charts that show the same things in the same styles can say so. */
  readonly style?: number
  /** In order of x; a point whose y is not finite (not measured) leaves a gap. */
  readonly points: readonly XyPoint[]
}

export interface XyChartOptions {
  readonly title: string
  /** Under the axis, at its right end: what x is. */
  readonly xLabel: string
  /** The x axis runs from 0 to `xMax`. */
  readonly xMax: number
  /** Where to label the x axis, and with what. */
  readonly ticks: readonly { readonly x: number; readonly label: string }[]
  readonly series: readonly XySeries[]
  readonly className?: string
  readonly width?: number
  readonly height?: number
}

/**
 * One line per series over a numeric x axis, with dots at the measured points: a figure against
 * something the run varied (an offered load). y may go below zero, and the axis follows it.
 */
export function xyChart(options: XyChartOptions): string {
  const styles = options.series.map((s, n) => s.style ?? n)
  const legend = options.series.map((s, i) => ({
    name: s.name,
    color: PALETTE[styles[i]! % PALETTE.length]!,
    dash: DASHES[styles[i]! % DASHES.length]!,
  }))
  const ys = options.series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite)
  const top = niceCeiling(Math.max(0, ...ys))
  const low = Math.min(0, ...ys)
  const bottom = low < 0 ? -niceCeiling(-low) : 0
  const frame = new Frame(options.width ?? 640, options.height ?? 300, top, legend, bottom)
  const x = (value: number): number => frame.m.left + (value / options.xMax) * frame.plotW
  const ticks = options.ticks.map((t) => frame.tick(x(t.x), t.label))
  const series = options.series.map((s, i) => {
    const n = styles[i]!
    const color = PALETTE[n % PALETTE.length]!
    // A run of finite points is one polyline; a point not measured breaks the line.
    const runs: XyPoint[][] = [[]]
    for (const p of s.points) {
      if (Number.isFinite(p.y)) runs.at(-1)!.push(p)
      else if (runs.at(-1)!.length > 0) runs.push([])
    }
    const lines = runs
      .filter((run) => run.length > 1)
      .map((run) => {
        const coords = run.map((p) => `${round(x(p.x))},${round(frame.y(p.y))}`)
        return `<polyline fill="none" stroke="${color}" stroke-width="2"${dashOf(n)} points="${coords.join(' ')}"/>`
      })
    const dots = runs.flat().map((p) => `<circle cx="${round(x(p.x))}" cy="${round(frame.y(p.y))}" r="3" fill="${color}"/>`)
    return `<g class="series" data-series="${escapeXml(s.name)}">${lines.join('')}${dots.join('')}</g>`
  })
  return frame.svg(options.className ?? 'xy', options.title, options.xLabel, ticks.join('') + series.join(''))
}
