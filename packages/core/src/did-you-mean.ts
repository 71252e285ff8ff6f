/**
 * The known name a misspelt one most likely meant (`refilPerSecond` → `refillPerSecond`), or
 * undefined when none is close: at most one edit for short names, two from six characters on,
 * where a transposition is one edit and case is ignored.
 */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  const wanted = name.toLowerCase()
  const limit = wanted.length < 6 ? 1 : 2
  let best: string | undefined
  let bestDistance = limit + 1
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.
 * A length gap of more than two is returned as the distance: more than any limit above.
 */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return Math.abs(a.length - b.length)
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)]
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      let distance = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, substitution)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, rows[i - 2]![j - 2]! + 1)
      row.push(distance)
    }
    rows.push(row)
  }
  return rows[a.length]![b.length]!
}
