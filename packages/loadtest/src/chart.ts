/** A small line chart as inline SVG: no script, no stylesheet, no network. */

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

export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 560
  const height = options.height ?? 220
  const m = { left: 52, right: 14, top: 34, bottom: 30 }
  const plotW = width - m.left - m.right
  const plotH = height - m.top - m.bottom
  const points = Math.max(1, ...options.series.map((s) => s.values.length))
  const top = niceCeiling(Math.max(0, ...options.series.flatMap((s) => s.values)))
  // One point per second, in the middle of its second.
  const x = (i: number): number => m.left + ((i + 0.5) / points) * plotW
  const y = (v: number): number => m.top + plotH - (v / top) * plotH

  const grid = [0, 0.5, 1].map((f) => {
    const value = top * f
    return (
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${round(y(value))}" y2="${round(y(value))}" stroke="#ddd"/>` +
      `<text x="${m.left - 6}" y="${round(y(value) + 4)}" text-anchor="end">${round(value)}</text>`
    )
  })
  const ticks = Array.from({ length: points }, (_, i) => i)
    .filter((i) => points <= 12 || i % Math.ceil(points / 12) === 0)
    .map((i) => `<text x="${round(x(i))}" y="${height - m.bottom + 16}" text-anchor="middle">${i + 1}</text>`)
  const series = options.series.map((s, n) => {
    const color = PALETTE[n % PALETTE.length]!
    const coords = s.values.map((v, i) => `${round(x(i))},${round(y(v))}`)
    const dots = s.values.map((v, i) => `<circle cx="${round(x(i))}" cy="${round(y(v))}" r="3" fill="${color}"/>`).join('')
    const dash = DASHES[n % DASHES.length] === '' ? '' : ` stroke-dasharray="${DASHES[n % DASHES.length]}"`
    return `<g class="series" data-replica="${escapeXml(s.name)}"><polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${coords.join(' ')}"/>${dots}</g>`
  })
  const legend = options.series.map((s, n) => {
    const lx = m.left + n * 110
    return `<rect x="${lx}" y="20" width="10" height="10" fill="${PALETTE[n % PALETTE.length]}"/><text x="${lx + 14}" y="29">${escapeXml(s.name)}</text>`
  })
  const title = escapeXml(options.title)
  return (
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}" font-family="system-ui, sans-serif" font-size="11" fill="#333">` +
    `<title>${title}</title><text x="${m.left}" y="13" font-size="13" font-weight="600">${title}</text>${legend.join('')}${grid.join('')}` +
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#999"/>${ticks.join('')}` +
    `<text x="${m.left + plotW}" y="${height - 2}" text-anchor="end">second of the run</text>${series.join('')}</svg>`
  )
}
