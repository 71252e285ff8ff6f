import autocannon from 'autocannon'
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
  readonly signal?: AbortSignal
}

export interface LoadResult {
  /** Responses received. */
  readonly responses: number
  readonly seconds: number
  readonly rps: number
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

/** One autocannon run, in this process; the target runs in another. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.signal?.aborted) return Promise.reject(options.signal.reason)
  return new Promise((resolve, reject) => {
    let settled = false
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        requests: requestsFor(options.keys),
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
        resolve({
          responses: result.requests.total,
          seconds,
          rps: result.requests.total / seconds,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          statuses,
          ok: result['2xx'],
          errors: result.errors,
        })
      },
    )
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
