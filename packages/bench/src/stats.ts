/** The median of a non-empty list; the mean of the middle two for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** a / b, or NaN when either is missing or b is 0: a ratio that cannot be taken is not 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  return a === undefined || b === undefined || b === 0 ? Number.NaN : a / b
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

/**
 * The median over rounds of f(each series' run in that round): runs next to each other share the
 * machine's mood, so a figure taken round by round moves less with noise than one of medians.
 * Rounds where a series has no run, and rounds where f is not finite (a ratio over zero), are left out.
 */
export function perRoundMedian<T extends { readonly round: number }>(series: readonly (readonly T[])[], f: (runs: T[]) => number): number {
  const values: number[] = []
  for (const first of series[0] ?? []) {
    const runs = series.map((runs) => runs.find((r) => r.round === first.round))
    if (runs.every((r) => r !== undefined)) values.push(f(runs as T[]))
  }
  return median(values.filter(Number.isFinite))
}

/** The value at quantile q of sorted values (nearest rank). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
