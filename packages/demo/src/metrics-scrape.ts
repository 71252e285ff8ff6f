/** What the replicas' own /metrics say about one run, summed over the replicas. */
export interface ScrapedMetrics {
  /** `sluice_requests_total` by outcome (allowed, denied, …). */
  readonly byOutcome: Readonly<Record<string, number>>
  /** `sluice_requests_total` by answer source (store, local, allow, deny). */
  readonly bySource: Readonly<Record<string, number>>
}

const SAMPLE = /^sluice_requests_total\{([^}]*)\}\s+(\d+(?:\.\d+)?)$/

/** Sum `sluice_requests_total` samples of Prometheus text expositions by outcome and by source. */
export function sumRequests(expositions: readonly string[]): ScrapedMetrics {
  const byOutcome: Record<string, number> = {}
  const bySource: Record<string, number> = {}
  for (const text of expositions) {
    for (const line of text.split('\n')) {
      const match = SAMPLE.exec(line.trim())
      if (match === null) continue
      const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
      const value = Number(match[2])
      if (labels.outcome !== undefined) byOutcome[labels.outcome] = (byOutcome[labels.outcome] ?? 0) + value
      if (labels.source !== undefined) bySource[labels.source] = (bySource[labels.source] ?? 0) + value
    }
  }
  return { byOutcome, bySource }
}

/** Scrape every replica's /metrics directly (the gateway would pick one at random). */
export async function scrapeReplicas(ports: readonly number[]): Promise<ScrapedMetrics> {
  const texts = await Promise.all(
    ports.map(async (port) => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) })
      return response.ok ? response.text() : ''
    }),
  )
  return sumRequests(texts)
}

export function formatScraped(metrics: ScrapedMetrics): string {
  const list = (counts: Readonly<Record<string, number>>): string =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
      .join(', ')
  return `The replicas' own metrics (sluice_requests_total at /metrics, summed): ${list(metrics.byOutcome)}; answered by ${list(metrics.bySource)}.`
}
