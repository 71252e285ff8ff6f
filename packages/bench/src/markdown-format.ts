/** How the report prints its figures: one place, so every table reads alike. */

import type { TargetSummary } from './results.js'
import { fill } from './template.js'

export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
export const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '–')
export const times = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–')
export const signedUs = (n: number): string => (Number.isFinite(n) ? `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)} µs` : '–')
// autocannon measures latency in whole milliseconds.
export const ms = (n: number): string => (!Number.isFinite(n) ? '–' : n < 1 ? '< 1' : String(Math.round(n)))
// The paced load measures it in fractions of one: three significant digits.
export const fineMs = (n: number): string => (!Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : int(n))
export const count = (n: number, noun: string): string => `${int(n)} ${noun}${n === 1 ? '' : 's'}`
export function percent(part: number, whole: number): string {
  if (whole <= 0) return '–'
  if (part === 0 || part === whole) return `${Math.round((100 * part) / whole)} %`
  const share = (100 * part) / whole
  // A flood's dozen admitted requests out of a hundred thousand must not print as 0.0 % or 100.0 %.
  return share < 0.1 ? '< 0.1 %' : share > 99.9 ? '> 99.9 %' : `${share.toFixed(1)} %`
}

export function table(head: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`
  return [line(head), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n')
}
export const signedMs = (n: number): string => (Number.isFinite(n) ? `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(2)}` : '–')

/** Paragraphs under a table of measured targets: warnings that change how its figures read. */
export function warnings(targets: readonly TargetSummary[]): string {
  const paragraphs: string[] = []
  for (const t of targets) {
    if (!t.keptUp) {
      const worst = t.samples.reduce((a, b) => (a.responses / (a.offered ?? 1) < b.responses / (b.offered ?? 1) ? a : b))
      paragraphs.push(fill('warning-behind', { target: t.label, answered: int(worst.responses), due: int(worst.offered ?? Number.NaN) }))
    }
    if ((t.degraded ?? 0) > 0) {
      paragraphs.push(fill('warning-degraded', { target: t.label, degraded: int(t.degraded!), responses: int(t.responses) }))
    }
  }
  return paragraphs.join('\n\n')
}
