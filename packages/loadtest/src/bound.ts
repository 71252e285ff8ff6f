/**
 * The arithmetic a run is judged by. A token bucket that starts full can admit at most
 * `capacity + refillPerSecond × t` requests in any window of `t` seconds, however many replicas
 * share it. The window used is from the first request sent to the last response received, which
 * contains every decision the limiter made, so the bound is strict: one request more is a bug.
 *
 * Except for degraded admissions: a replica whose Redis check failed (too slow, unreachable)
 * answers from its local fallback bucket, and a request it admits so took nothing from the shared
 * bucket. Each such admission adds at most one to what the client can get, so a client's bound is
 * the shared bucket's plus its own degraded admissions, counted from the responses.
 *
 * A saturated client must also get at least what was there for it: the full bucket, and every
 * token that refilled between its first and its last denial (a denial means the bucket was empty,
 * so every token before it was taken). That window is measured from inside, from the first
 * denial received to the last denied request sent, so a slow machine, whose answers take longer,
 * only lowers the floor. A client that stopped asking for longer than its bucket takes to fill
 * (a load generator starved by a busy machine) may rightly have lost what refilled while its
 * bucket was full: that time is left out of the window (see `stalledDenials`). A client below the
 * floor lost tokens.
 */

/** A client under its limit may see at most this share of its requests denied. */
export const MAX_STEADY_DENIED_SHARE = 0.01

/**
 * The most one client may be admitted in `elapsedSeconds`: the shared bucket's
 * `capacity + refillPerSecond × elapsedSeconds`, plus its `degradedAdmissions` (answered 200 from
 * a replica's local fallback bucket, each of which took nothing from the shared one).
 */
export function admissionBound(capacity: number, refillPerSecond: number, elapsedSeconds: number, degradedAdmissions = 0): number {
  return capacity + refillPerSecond * elapsedSeconds + degradedAdmissions
}

/**
 * The most tokens one client may receive in `elapsedSeconds` when each answer reserves some tokens
 * and is settled with its length afterwards (the settle scenario, issue 21): the bucket's
 * `capacity + refillPerSecond × elapsedSeconds`, plus, for each of its `connections`, one
 * answer's overshoot (the largest `largestOvershootTokens`: tokens streamed beyond the
 * reservation, which may take the bucket below empty, down to its debt cap), plus the tokens of
 * its degraded admissions (answered from a local fallback bucket, which took nothing from the
 * shared one).
 */
export function settledBound(
  capacity: number,
  refillPerSecond: number,
  elapsedSeconds: number,
  connections: number,
  largestOvershootTokens: number,
  degradedTokens = 0,
): number {
  return admissionBound(capacity, refillPerSecond, elapsedSeconds) + connections * Math.max(0, largestOvershootTokens) + degradedTokens
}

/**
 * The least a saturated client is admitted when no token is lost: the full bucket, and what
 * refilled in the `limitedSeconds` between its first denial and its last, less the one token that
 * may still have been refilling, and less one for each of its `connections`: a request still in
 * flight when the run stopped may have taken a token without its answer being counted.
 * Undefined `limitedSeconds` (never denied): the full bucket, less those.
 *
 * `degradedSeconds` is how long the client was answered from local fallback buckets: nobody took
 * its shared tokens then, so what refilled in that time may have been lost to a full bucket
 * without any fault of the limiter; the floor does not count it.
 */
export function admissionFloor(
  capacity: number,
  refillPerSecond: number,
  limitedSeconds: number | undefined,
  connections: number,
  degradedSeconds = 0,
  stalls: Stalls = NO_STALLS,
): number {
  const counted = (limitedSeconds ?? 0) - Math.max(0, degradedSeconds) - stalls.seconds
  const refilled = limitedSeconds === undefined ? 0 : refillPerSecond * Math.max(0, counted) - 1 - stalls.count
  return capacity + refilled - connections
}

/** A request's life as the load generator saw it. */
export interface Interval {
  readonly sentMs: number
  readonly receivedMs: number
}

/** Gaps in a client's asking, left out of its floor's window: their total length, and how many. */
export interface Stalls {
  readonly seconds: number
  readonly count: number
}

const NO_STALLS: Stalls = { seconds: 0, count: 0 }

/**
 * The time in which a client's bucket may have been full, between its shared denials (each
 * `[sentMs, receivedMs]`), and so lost what refilled. The bucket was empty at each denial,
 * somewhere in its interval: after a denial sent at `s`, the next one answered at `r` found it
 * empty again, and in between it was full for at most `r − s − fillMs` (`fillMs`: capacity ÷
 * refill, the time from empty to full), less `1000 / refill` for every admission surely between
 * the two (each took a token the bucket had to refill first). Each such gap costs one more token
 * of slack, since the bucket's level at the denials on either side no longer cancels out.
 */
export function stalledDenials(denials: readonly Interval[], admissions: readonly Interval[], fillMs: number, tokenMs: number): Stalls {
  const sorted = [...denials].sort((a, b) => a.sentMs - b.sentMs)
  let seconds = 0
  let count = 0
  for (const [i, d] of sorted.entries()) {
    // The latest-sent earlier denial bounds the bucket's last empty moment from below.
    const before = sorted[i - 1]
    if (before === undefined || d.receivedMs - before.sentMs <= fillMs) continue
    const between = admissions.filter((a) => a.sentMs >= before.receivedMs && a.receivedMs <= d.sentMs).length
    const full = d.receivedMs - before.sentMs - fillMs - between * tokenMs
    if (full > 0) {
      seconds += full / 1000
      count++
    }
  }
  return { seconds, count }
}

export interface ClientOutcome {
  readonly admitted: number
  readonly requests: number
  readonly limited: number
  /** Its admission bound, its degraded admissions included (see `admissionBound`). */
  readonly bound: number
  readonly floor: number
}

export interface Verdict {
  readonly pass: boolean
  /** No client got more than its bound. */
  readonly withinBound: boolean
  /** Saturating runs: every client got at least its floor. */
  readonly nearBound: boolean
  /** Steady runs: at most MAX_STEADY_DENIED_SHARE of requests were denied. */
  readonly fewDenied: boolean
  /** admitted ÷ bound, lowest and highest over the clients. */
  readonly lowestShare: number
  readonly highestShare: number
  /** Denied (429) ÷ requests over all clients. */
  readonly deniedShare: number
}

/**
 * `measure: 'tokens'` (the settle scenario): a run passes when every client stayed within its
 * bound. `in-flight` (the inflight scenario): `bound` is the client's allowed in-flight count and
 * `admitted` its peak; the report adds the rest of that verdict (see inflight.ts).
 */
export function judge(
  clients: readonly ClientOutcome[],
  saturating: boolean,
  measure: 'requests' | 'tokens' | 'in-flight' = 'requests',
): Verdict {
  const shares = clients.map((c) => (c.bound > 0 ? c.admitted / c.bound : 0))
  const requests = clients.reduce((n, c) => n + c.requests, 0)
  const limited = clients.reduce((n, c) => n + c.limited, 0)
  const withinBound = clients.every((c) => c.admitted <= c.bound)
  const lowestShare = shares.length > 0 ? Math.min(...shares) : 0
  const highestShare = shares.length > 0 ? Math.max(...shares) : 0
  const nearBound = clients.length > 0 && clients.every((c) => c.admitted >= c.floor)
  const deniedShare = requests > 0 ? limited / requests : 0
  const fewDenied = requests > 0 && deniedShare <= MAX_STEADY_DENIED_SHARE
  return {
    pass: withinBound && (measure !== 'requests' || (saturating ? nearBound : fewDenied)),
    withinBound,
    nearBound,
    fewDenied,
    lowestShare,
    highestShare,
    deniedShare,
  }
}
