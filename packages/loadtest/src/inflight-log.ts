import { clientKey } from './inflight.js'
import { INFLIGHT_LOG_PATH, type InflightEntry } from './policy.js'
import type { ClientIdentity } from './types.js'

const ATTEMPTS = 3
const FETCH_TIMEOUT_MS = 5_000

/**
 * The intervals every replica logged for the run's clients, read from each replica itself (the
 * gateway refuses the path). A replica logs an interval when its response has ended, which may
 * come just after the client read the answer: read again, up to a few times, while fewer than the
 * `admitted` answers are logged. A replica that cannot be read adds nothing, and the verdict then
 * says the log is incomplete.
 */
export async function collectInflightLog(
  replicaUrls: readonly string[],
  clients: readonly ClientIdentity[],
  admitted: number,
): Promise<InflightEntry[]> {
  let entries: InflightEntry[] = []
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const lists = await Promise.all(replicaUrls.flatMap((url) => clients.map((c) => readLog(url, clientKey(c)))))
    entries = lists.flat()
    if (entries.length >= admitted) break
  }
  return entries
}

async function readLog(replicaUrl: string, key: string): Promise<InflightEntry[]> {
  const url = new URL(INFLIGHT_LOG_PATH, replicaUrl)
  url.searchParams.set('key', key)
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
    return res.ok ? ((await res.json()) as InflightEntry[]) : []
  } catch {
    return []
  }
}
