import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import { type KeyPlan, keyFor, type LoadResult } from './load.js'
import { quantile } from './stats.js'
import { KEY_HEADER } from './targets/catalog.js'

/**
 * A fixed offered load: request i is due at `start + i / rate`, whether or not earlier ones have
 * been answered (an open loop, as wrk2 and k6's constant-arrival-rate run it), on at most
 * `connections` keep-alive connections. Latency is measured from when a request was due, not
 * from when it could be sent, so a server that falls behind shows it in its latency instead of
 * slowing the load down.
 *
 * autocannon's `overallRate` is not this: each connection sends its share of a second's
 * requests back to back as soon as the second starts, then waits for the next one, so the
 * server runs flat out for part of every second and idles for the rest.
 */

export interface PacedLoadOptions {
  readonly url: string
  /** Requests per second offered. */
  readonly rate: number
  readonly seconds: number
  /** Requests in flight at most; a request due while all are busy waits for one (and is late). */
  readonly connections: number
  readonly keys: KeyPlan
  readonly signal?: AbortSignal
}

export interface PacedLoadResult extends LoadResult {
  /** Requests the schedule called for: rate × seconds. */
  readonly offered: number
  /** Requests sent before the schedule ended; fewer than `offered` when the target fell behind. */
  readonly sent: number
}

// Node's timers fire at best every millisecond: each tick sends every request due by then.
const TICK_MS = 1
const DRAIN_LIMIT_MS = 10_000

export async function runPacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  options.signal?.throwIfAborted()
  const { rate, connections } = options
  const url = new URL(options.url)
  const offered = Math.max(1, Math.round(rate * options.seconds))
  const intervalMs = 1000 / rate
  const pool = new Pool(url.origin, { connections, pipelining: 1 })
  const latencies = new Float64Array(offered)
  const statuses: Record<string, number> = {}
  let sent = 0
  let responses = 0
  let inFlight = 0
  let errors = 0
  let lastResponseAt = 0
  let scheduling = true
  let settle: () => void = () => {}
  const settled = new Promise<void>((resolve) => {
    settle = resolve
  })

  const start = performance.now()
  const endOfSchedule = start + options.seconds * 1000

  function send(index: number): void {
    const due = start + index * intervalMs
    inFlight++
    let status = 0
    // dispatch() with callbacks, not request(): no promise or body stream per request, so the
    // load generator takes less of the CPU it shares with the servers.
    pool.dispatch(
      { method: 'GET', path: url.pathname, headers: { [KEY_HEADER]: keyFor(options.keys, index) } },
      {
        // undici takes a handler for its current callback API by this method's presence.
        onRequestStart() {},
        onResponseStart(_controller, statusCode) {
          status = statusCode
        },
        onResponseEnd() {
          const at = performance.now()
          latencies[responses++] = at - due
          lastResponseAt = at
          statuses[status] = (statuses[status] ?? 0) + 1
          done()
        },
        onResponseError() {
          errors++
          done()
        },
      },
    )
  }

  function done(): void {
    inFlight--
    // A connection came free: a request already due goes now, not at the next tick.
    if (scheduling) tick()
    else if (inFlight === 0) settle()
  }

  function tick(): void {
    const now = performance.now()
    const due = Math.min(offered, Math.floor((now - start) / intervalMs) + 1)
    while (sent < due && inFlight < connections && now < endOfSchedule) send(sent++)
    if (scheduling && (sent === offered || now >= endOfSchedule)) stopScheduling()
  }

  const ticker = setInterval(tick, TICK_MS)
  let drainTimer: NodeJS.Timeout | undefined
  function stopScheduling(): void {
    scheduling = false
    clearInterval(ticker)
    if (inFlight === 0) settle()
    // Responses still out get a bound: a server that needs longer is stuck, not slow.
    else drainTimer = setTimeout(settle, DRAIN_LIMIT_MS)
  }
  const abort = (): void => {
    stopScheduling()
    settle()
  }
  options.signal?.addEventListener('abort', abort, { once: true })
  tick()
  try {
    await settled
  } finally {
    options.signal?.removeEventListener('abort', abort)
    clearInterval(ticker)
    clearTimeout(drainTimer)
  }
  const unanswered = inFlight
  await pool.destroy()
  options.signal?.throwIfAborted()

  const measured = latencies.subarray(0, responses).sort()
  const seconds = ((lastResponseAt > 0 ? lastResponseAt : performance.now()) - start) / 1000
  return {
    offered,
    sent,
    responses,
    seconds,
    rps: responses / seconds,
    meanMs: responses > 0 ? measured.reduce((a, b) => a + b, 0) / responses : Number.NaN,
    p50Ms: quantile(measured, 0.5),
    p99Ms: quantile(measured, 0.99),
    statuses,
    ok: Object.entries(statuses).reduce((n, [code, count]) => (code.startsWith('2') ? n + count : n), 0),
    // Connection errors, and requests still unanswered 10 s after the schedule ended.
    errors: errors + unanswered,
  }
}
