import { arithmetic, runBound } from './bound-text.js'
import { allowed, count, percent, rate, seconds, times } from './format.js'
import { inflightSummary } from './inflight-text.js'
import { SCENARIOS } from './scenarios.js'
import type { Report } from './types.js'

/** The verdict in one sentence, for someone who has never heard of token buckets. */
export function summarize(r: Omit<Report, 'summary'>): string {
  const v = r.verdict
  const replicas = `${r.replicas.length} replica${r.replicas.length === 1 ? '' : 's'}`
  // A client's bound: what one bucket allows, plus one for each request a replica admitted from
  // its local fallback bucket (which took nothing from Redis).
  const limitOf = (degradedAdmitted: number): string =>
    degradedAdmitted === 0
      ? `the ${allowed(r.bound)} that one bucket allows in ${seconds(r.elapsedSeconds)} (${arithmetic(r)})`
      : `the ${allowed(r.bound + degradedAdmitted)} it may get in ${seconds(r.elapsedSeconds)} (${arithmetic(r, degradedAdmitted)}): what one bucket allows, plus one for each request a replica admitted from its local fallback bucket`
  const worst = r.clients.reduce((a, b) => (b.share > a.share ? b : a), r.clients[0] ?? { admitted: 0, share: 0, degradedAdmitted: 0 })
  const limit = limitOf(worst.degradedAdmitted)

  if (SCENARIOS[r.scenario].measure === 'in-flight') return inflightSummary(r)
  if (SCENARIOS[r.scenario].measure === 'tokens') {
    const c = r.clients[0]
    const got = `${count(c?.admitted ?? 0)} tokens of streamed answers`
    const cap = `the ${runBound(r)} its bucket allows in ${seconds(r.elapsedSeconds)}: capacity + refill × time, plus one answer's overshoot per connection${(c?.degradedAdmitted ?? 0) > 0 ? ', plus the tokens answered from local fallback buckets' : ''}`
    if (r.mode === 'local') return `WITHOUT A SHARED REDIS: a client received ${got}, ${times(c?.share ?? 0)} ${cap}.`
    return v.withinBound
      ? `PASS: a client received ${got} through ${replicas}, each answer settled after it ended: ${percent(c?.share ?? 0)} of ${cap}.`
      : `FAIL: a client received ${got}, ${times(c?.share ?? 0)} ${cap}: settles were lost or applied twice.`
  }
  if (!r.saturating) {
    const denied = `${count(r.totals.limited)} of ${count(r.totals.requests)} requests denied`
    if (!v.withinBound) return `FAIL: a client got ${count(worst.admitted)} requests through, ${times(worst.share)} ${limit}.`
    return v.pass
      ? `PASS: a client staying under its limit (${rate(r.load.ratePerSecond ?? 0)} against a refill of ${rate(r.refillPerSecond)}) had ${denied}.`
      : `FAIL: a client staying under its limit had ${denied} (${percent(v.deniedShare)}).`
  }
  if (r.mode === 'local') {
    return `WITHOUT A SHARED REDIS: a client got ${count(worst.admitted)} requests through, ${times(worst.share)} ${limit}: each of the ${replicas} gave it a bucket of its own.`
  }
  if (!v.withinBound) {
    const why =
      r.totals.degraded > 0
        ? `${count(r.totals.degraded)} answers came from the replicas' local fallback buckets (Redis too slow or gone)`
        : 'the replicas are not sharing one limit'
    return `FAIL: a client got ${count(worst.admitted)} requests through, ${times(worst.share)} ${limit}: ${why}.`
  }
  const short = r.clients.find((c) => c.admitted < c.floor)
  if (!v.nearBound && short !== undefined) {
    return `FAIL: a client got only ${count(short.admitted)} requests through, fewer than the ${count(Math.ceil(short.floor))} its bucket held for it from its first denial to its last: tokens were lost.`
  }
  // Clients the run never pushed past their limit (a busy machine offers less): for them it shows
  // only that nothing went over, and the verdict says so rather than claim the limit at work.
  const unrefused = r.clients.filter((c) => c.limited === 0).length
  if (unrefused === r.clients.length) {
    return `PASS: no client went over its limit, but none was refused either (not saturated): the load generator offered ${r.clients.length === 1 ? 'it' : 'each'} less than its bucket holds (a busy machine), so this run does not show the limit at work; the most a client got through was ${count(worst.admitted)} requests, ${percent(worst.share)} of ${limit}.`
  }
  const caveat =
    unrefused === 0
      ? ''
      : ` (${count(unrefused)} of ${count(r.clients.length)} clients were never refused: the load generator offered them less than their buckets hold, so for them the run shows only that nothing went over)`
  if (r.clients.length === 1) {
    return `PASS: one client sent ${count(r.totals.requests)} requests through ${replicas}; ${count(worst.admitted)} got through, ${percent(worst.share)} of ${limit}. The limit is global.`
  }
  const range =
    percent(v.lowestShare) === percent(v.highestShare) ? percent(v.lowestShare) : `${percent(v.lowestShare)}–${percent(v.highestShare)}`
  const each = r.totals.degradedAdmitted === 0 ? limit : `the ${runBound(r)} each may get in ${seconds(r.elapsedSeconds)}`
  return `PASS: ${r.clients.length} clients each got ${range} of ${each}, through ${replicas}. Each limit is global, and no client used another's.${caveat}`
}
