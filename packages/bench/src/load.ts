import autocannon from 'autocannon'
import { quantile } from './stats.js'
import { KEY_HEADER } from './targets/catalog.js'

/** Which client each request claims to be, through the header every limiter keys on. */
export type KeyPlan =
  | { readonly kind: 'one'; readonly key: string }
  /** `count` distinct keys in turn, shared by all connections: every key comes back once per `count` requests. */
  | { readonly kind: 'rotating'; readonly count: number }

export interface LoadOptions {
  readonly url: string
  readonly connections: number
  readonly seconds: number
  readonly keys: KeyPlan
  /** autocannon's `overallRate`: at most this many requests a second over all connections; as fast as answered if absent. */
  readonly overallRate?: number
  /**
   * Latency from each response's own time, to the µs, instead of autocannon's histogram (whole
   * milliseconds, rounded down: sub-millisecond latencies all read 0). Costs the load generator
   * a callback per response, so only for a capped rate.
   */
  readonly fineLatency?: boolean
  readonly signal?: AbortSignal
}

export interface LoadResult {
  /** Responses received. */
  readonly responses: number
  readonly seconds: number
  readonly rps: number
  readonly meanMs: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Responses by status code. */
  readonly statuses: Readonly<Record<string, number>>
  readonly ok: number
  /** Connection errors and timeouts. */
  readonly errors: number
}

// autocannon stops itself after `seconds`; this is only the backstop for a wedged run.
const GRACE_MS = 30_000

/** The key the index-th request of a run claims. */
export function keyFor(keys: KeyPlan, index: number): string {
  return keys.kind === 'one' ? keys.key : `client-${index % keys.count}`
}

function requestsFor(keys: KeyPlan): autocannon.Request[] {
  if (keys.kind === 'one') return [{ method: 'GET', path: '/', headers: { [KEY_HEADER]: keys.key } }]
  let next = 0
  return [
    {
      method: 'GET',
      path: '/',
      setupRequest: (request) => {
        request.headers = { ...request.headers, [KEY_HEADER]: keyFor(keys, next++) }
        return request
      },
    },
  ]
}

/**
 * The mean latency of a run, to the µs where it can be had: the responses' own times when they
 * were kept; in a closed loop, Little's law (every connection always has one request out, so the
 * mean is connections ÷ throughput); else autocannon's histogram, whose values are whole
 * milliseconds rounded down.
 */
function meanLatency(options: LoadOptions, fine: Float64Array | undefined, histogramMean: number, rps: number): number {
  if (fine !== undefined) return fine.length > 0 ? fine.reduce((a, b) => a + b, 0) / fine.length : Number.NaN
  if (options.overallRate !== undefined) return histogramMean
  return rps > 0 ? (options.connections * 1000) / rps : Number.NaN
}

/** One autocannon run, in this process; the target runs in another. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.signal?.aborted) return Promise.reject(options.signal.reason)
  // Grown as responses arrive: a few seconds at a capped rate is a few thousand numbers.
  const latencies: number[] | undefined = options.fineLatency === true ? [] : undefined
  return new Promise((resolve, reject) => {
    let settled = false
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        requests: requestsFor(options.keys),
        ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
      },
      (error, result) => {
        settled = true
        clearTimeout(backstop)
        options.signal?.removeEventListener('abort', abort)
        if (error !== null && error !== undefined) return reject(error)
        if (options.signal?.aborted) return reject(options.signal.reason)
        const statuses: Record<string, number> = {}
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stat.count ?? 0
        const seconds = result.duration > 0 ? result.duration : options.seconds
        const fine = latencies === undefined ? undefined : Float64Array.from(latencies).sort()
        resolve({
          responses: result.requests.total,
          seconds,
          rps: result.requests.total / seconds,
          meanMs: meanLatency(options, fine, result.latency.mean, result.requests.total / seconds),
          p50Ms: fine !== undefined ? quantile(fine, 0.5) : result.latency.p50,
          p99Ms: fine !== undefined ? quantile(fine, 0.99) : result.latency.p99,
          statuses,
          ok: result['2xx'],
          errors: result.errors,
        })
      },
    )
    if (latencies !== undefined) instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime))
    const abort = (): void => instance.stop()
    options.signal?.addEventListener('abort', abort, { once: true })
    const backstop = setTimeout(
      () => {
        if (!settled) instance.stop()
      },
      options.seconds * 1000 + GRACE_MS,
    )
  })
}
