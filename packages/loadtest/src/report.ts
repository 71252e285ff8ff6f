import { admissionBound, admissionFloor, type Interval, judge, settledBound, stalledDenials } from './bound.js'
import { inflightOutcomes } from './inflight.js'
import { INFLIGHT_CONCURRENCY, streamReservation } from './policy.js'
import { answeredLocally, type Sample } from './sample.js'
import { SCENARIOS } from './scenarios.js'
import { cumulativeAdmitted, percentiles, perSecond, windowOf } from './stats.js'
import { summarize } from './summary.js'
import type { ReplicaStats, Report, ReportInput } from './types.js'

const UNKNOWN_REPLICA = '(gateway)'
/** Points of the worst-off client's curve: smooth at any run length, small in the JSON. */
export const CUMULATIVE_POINTS = 60
const byId = (a: { id: string }, b: { id: string }): number => a.id.localeCompare(b.id, 'en', { numeric: true })

function replicaStats(samples: readonly Sample[]): ReplicaStats[] {
  const stats = new Map<string, { id: string; requests: number; admitted: number; limited: number }>()
  for (const s of samples) {
    if (s.status === 0) continue
    const id = s.instance ?? UNKNOWN_REPLICA
    let r = stats.get(id)
    if (r === undefined) {
      r = { id, requests: 0, admitted: 0, limited: 0 }
      stats.set(id, r)
    }
    r.requests++
    if (s.status === 200) r.admitted++
    else if (s.status === 429) r.limited++
  }
  return [...stats.values()].sort(byId)
}

/** Turn a run's samples into its report and verdict. */
export function buildReport(input: ReportInput): Report {
  const { samples, capacity, refillPerSecond } = input
  const window = windowOf(samples)
  const elapsedSeconds = (window.endMs - window.startMs) / 1000
  const scenario = SCENARIOS[input.scenario]
  const tokens = scenario.measure === 'tokens'
  const connections = input.load.connectionsPerClient
  // The settle scenario counts tokens received; an answer's overshoot is what it streamed beyond its reservation.
  const reserved = streamReservation(capacity)
  // What a shared answer advertises in X-RateLimit-Limit: the slow route's in-flight limit is n, not the capacity.
  const advertised = scenario.measure === 'in-flight' ? INFLIGHT_CONCURRENCY : capacity
  const largestOvershoot = tokens ? Math.max(0, ...samples.filter((s) => s.status === 200).map((s) => (s.tokens ?? 0) - reserved)) : 0
  const bound = tokens
    ? settledBound(capacity, refillPerSecond, elapsedSeconds, connections, largestOvershoot)
    : admissionBound(capacity, refillPerSecond, elapsedSeconds)

  const clients = input.load.clients.map((c) => ({
    label: c.label,
    requests: 0,
    admitted: 0,
    limited: 0,
    degradedAdmitted: 0,
    bound,
    share: 0,
    floor: 0,
  }))
  // A local denial says nothing about the shared bucket: the floor's window is the shared denials'.
  const firstDenialMs = clients.map(() => Infinity)
  const lastDeniedSentMs = clients.map(() => -Infinity)
  const firstDegradedSentMs = clients.map(() => Infinity)
  const lastDegradedMs = clients.map(() => -Infinity)
  const sharedDenials = clients.map((): Interval[] => [])
  const admissions = clients.map((): Interval[] => [])
  for (const s of samples) {
    const c = clients[s.client]!
    const local = answeredLocally(s, advertised)
    c.requests++
    const worth = tokens ? (s.tokens ?? 0) : 1
    if (s.status === 200) c.admitted += worth
    else if (s.status === 429) c.limited++
    if (s.status === 200 && local) c.degradedAdmitted += worth
    if (s.status === 200) admissions[s.client]!.push({ sentMs: s.sentMs, receivedMs: s.receivedMs })
    if (local) {
      firstDegradedSentMs[s.client] = Math.min(firstDegradedSentMs[s.client]!, s.sentMs)
      lastDegradedMs[s.client] = Math.max(lastDegradedMs[s.client]!, s.receivedMs)
    } else if (s.status === 429) {
      firstDenialMs[s.client] = Math.min(firstDenialMs[s.client]!, s.receivedMs)
      lastDeniedSentMs[s.client] = Math.max(lastDeniedSentMs[s.client]!, s.sentMs)
      sharedDenials[s.client]!.push({ sentMs: s.sentMs, receivedMs: s.receivedMs })
    }
  }
  for (const [i, c] of clients.entries()) {
    c.bound = tokens
      ? settledBound(capacity, refillPerSecond, elapsedSeconds, connections, largestOvershoot, c.degradedAdmitted)
      : admissionBound(capacity, refillPerSecond, elapsedSeconds, c.degradedAdmitted)
    c.share = c.bound > 0 ? c.admitted / c.bound : 0
    const limitedSeconds = firstDenialMs[i]! < Infinity ? (lastDeniedSentMs[i]! - firstDenialMs[i]!) / 1000 : undefined
    const degradedSeconds = firstDegradedSentMs[i]! < Infinity ? (lastDegradedMs[i]! - firstDegradedSentMs[i]!) / 1000 : 0
    const stalls = stalledDenials(sharedDenials[i]!, admissions[i]!, (capacity / refillPerSecond) * 1000, 1000 / refillPerSecond)
    // Answers of random length leave no floor to speak of: the settle scenario is judged by its bound.
    c.floor = tokens ? 0 : admissionFloor(capacity, refillPerSecond, limitedSeconds, connections, degradedSeconds, stalls)
    // Never refused by the shared bucket: it got all it asked of it, and a floor above that would
    // only say the load generator (on a busy machine) offered less than the bucket held.
    if (limitedSeconds === undefined) c.floor = Math.min(c.floor, c.admitted - c.degradedAdmitted)
  }

  // The inflight scenario: a client's "admitted" is its peak in progress at once, its bound what it was allowed.
  const inflight =
    scenario.measure === 'in-flight' ? inflightOutcomes(samples, input.load.clients, input.inflightLog ?? [], INFLIGHT_CONCURRENCY) : []
  for (const [i, o] of inflight.entries()) {
    Object.assign(clients[i]!, { admitted: o.peak, bound: o.allowed, share: o.allowed > 0 ? o.peak / o.allowed : 0, floor: 0, inflight: o })
  }

  const worstOff = clients.reduce((worst, c, i) => (c.admitted < clients[worst]!.admitted ? i : worst), 0)
  const replicas = replicaStats(samples)
  const timelineSeconds = Math.max(1, Math.round(input.durationSeconds))
  const answered = samples.filter((s) => s.status !== 0)
  const admitted = answered.filter((s) => s.status === 200).length
  const limited = answered.filter((s) => s.status === 429).length
  const judged = judge(clients, scenario.saturating, scenario.measure)
  const verdict = inflight.length > 0 ? { ...judged, pass: inflight.every((o) => o.verdict.pass) } : judged

  const report: Omit<Report, 'summary'> = {
    scenario: input.scenario,
    title: scenario.title,
    saturating: scenario.saturating,
    mode: input.mode,
    keyMode: input.keyMode,
    gatewayUrl: input.gatewayUrl,
    capacity,
    refillPerSecond,
    load: {
      clients: input.load.clients.length,
      connectionsPerClient: input.load.connectionsPerClient,
      ratePerSecond: input.load.ratePerSecond,
    },
    startedAt: input.startedAt.toISOString(),
    durationSeconds: input.durationSeconds,
    elapsedSeconds,
    bound: inflight.length > 0 ? INFLIGHT_CONCURRENCY : bound,
    totals: {
      requests: samples.length,
      admitted,
      limited,
      other: answered.length - admitted - limited,
      errors: samples.length - answered.length,
      degraded: answered.filter((s) => answeredLocally(s, advertised)).length,
      degradedAdmitted: clients.reduce((n, c) => n + c.degradedAdmitted, 0),
    },
    replicas,
    clients,
    latencyMs: percentiles(answered.map((s) => s.receivedMs - s.sentMs)),
    timeline: {
      seconds: timelineSeconds,
      replicas: replicas.map(({ id }) => {
        const own = answered.filter((s) => (s.instance ?? UNKNOWN_REPLICA) === id)
        return { id, admitted: perSecond(own, window, 200, timelineSeconds), limited: perSecond(own, window, 429, timelineSeconds) }
      }),
      worstOff: { label: clients[worstOff]?.label ?? '', admitted: cumulativeAdmitted(samples, window, worstOff, CUMULATIVE_POINTS) },
    },
    verdict,
  }
  return { ...report, summary: summarize(report) }
}
