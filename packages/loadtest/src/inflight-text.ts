import { count } from './format.js'
import { INFLIGHT_CONCURRENCY } from './policy.js'
import type { ClientStats, Report } from './types.js'

type InflightClient = ClientStats & { readonly inflight: NonNullable<ClientStats['inflight']> }

function inflightClients(r: Pick<Report, 'clients'>): InflightClient[] {
  return r.clients.filter((c): c is InflightClient => c.inflight !== undefined)
}

/** What a client may hold at once, in words: n, plus the local slots when some were degraded. */
function allowance(c: InflightClient): string {
  const local = c.inflight.allowed - INFLIGHT_CONCURRENCY
  return local > 0
    ? `${count(c.inflight.allowed)} (${INFLIGHT_CONCURRENCY} + ${count(local)} local slots while degraded)`
    : `${INFLIGHT_CONCURRENCY}`
}

/** The table's line: per client, the peak held against what was allowed, offered and refused. */
export function inflightLine(r: Pick<Report, 'clients'>): string {
  const each = inflightClients(r).map(
    (c) =>
      `${c.label} held at most ${count(c.inflight.peak)} at once of ${allowance(c)} (offered ${count(c.inflight.offered)}, ${count(c.inflight.refused)} refused with a concurrent-requests 429, ${count(c.inflight.logged)} intervals logged)`,
  )
  return `  in flight, merged from the replicas' logs: ${each.join('; ')}`
}

/** The verdict in one sentence. */
export function inflightSummary(r: Omit<Report, 'summary'>): string {
  const clients = inflightClients(r)
  const replicas = `${r.replicas.length} replica${r.replicas.length === 1 ? '' : 's'}`
  const peak = Math.max(0, ...clients.map((c) => c.inflight.peak))
  const offered = Math.max(0, ...clients.map((c) => c.inflight.offered))
  const refused = clients.reduce((n, c) => n + c.inflight.refused, 0)
  const held = `at most ${count(peak)} of a client's requests were in progress at once, of the ${INFLIGHT_CONCURRENCY} its in-flight limit allows`
  if (r.mode === 'local') return `WITHOUT A SHARED REDIS: ${held}: each of the ${replicas} counted its own.`
  if (r.verdict.pass) {
    return `PASS: ${held}, across ${replicas} (each client offered up to ${count(offered)} at once; ${count(refused)} refused with a concurrent-requests 429).`
  }
  const why = clients.flatMap((c) => [
    ...(c.inflight.verdict.withinLimit ? [] : [`${c.label} had ${count(c.inflight.peak)} in progress, above ${allowance(c)}`]),
    ...(c.inflight.verdict.refusedWhenOver ? [] : [`${c.label} offered ${count(c.inflight.offered)} at once and none was refused`]),
    ...(c.inflight.verdict.complete
      ? []
      : [`only ${count(c.inflight.logged)} of ${c.label}'s ${count(c.inflight.admitted)} admitted requests were logged by the replicas`]),
    ...(c.inflight.verdict.served ? [] : [`${c.label} had no request admitted`]),
  ])
  return `FAIL: ${why.join('; ')}.`
}
