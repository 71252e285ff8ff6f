import type { Decision } from '../../src/types.js'

/** What one request of a load run came back with. */
export interface LoadAnswer {
  /** Where the answer came from; undefined over HTTP, which does not say. */
  readonly source: Decision['source'] | undefined
  /** Admitted: the app served it. */
  readonly allowed: boolean
  /** The HTTP status the app answered (or would answer: the denial's, or 200). */
  readonly status: number
}

/** One answered request of a load run. */
export interface LoadDecision extends LoadAnswer {
  /** When it was answered (performance.now ms). */
  readonly at: number
  /** How long it waited. */
  readonly ms: number
}

export interface LoadResult {
  readonly decisions: readonly LoadDecision[]
  /** Checks that rejected: a limiter never should. */
  readonly errors: readonly unknown[]
  readonly slowestMs: number
  /** From the first request sent to the last answered. */
  readonly seconds: number
}

export interface LoadRun {
  /** Resolves once an answer matches `ok` (one already given counts); rejects after `timeoutMs`. */
  until(ok: (decision: LoadDecision) => boolean, timeoutMs: number): Promise<void>
  /** When the first answer from `source` after `at` came. */
  firstAfter(at: number, source: Decision['source']): number | undefined
  stop(): Promise<LoadResult>
}

export interface LoadOptions {
  readonly concurrency: number
  readonly pauseMs: number
}

/**
 * Steady load on a limiter: `concurrency` loops, each checking, then pausing `pauseMs`, until
 * stopped. A request's fate is what a Fastify or Express app would make of its decision.
 */
export function steadyLoad(check: () => Promise<Decision | undefined>, options: LoadOptions): LoadRun {
  return steadyRequests(async () => {
    const decision = await check()
    return { source: decision?.source ?? 'store', allowed: decision?.deny === undefined, status: decision?.deny?.status ?? 200 }
  }, options)
}

/**
 * Steady load of any kind (limiter checks, HTTP requests): `concurrency` loops, each sending one
 * request, then pausing `pauseMs`, until stopped. A request that rejects is an error.
 */
export function steadyRequests(send: () => Promise<LoadAnswer>, options: LoadOptions): LoadRun {
  const decisions: LoadDecision[] = []
  const errors: unknown[] = []
  const watchers = new Set<(decision: LoadDecision) => void>()
  let running = true
  let slowestMs = 0
  const startedAt = performance.now()
  const loop = async (): Promise<void> => {
    while (running) {
      const sent = performance.now()
      try {
        const answer = await send()
        const at = performance.now()
        const d: LoadDecision = { ...answer, at, ms: at - sent }
        slowestMs = Math.max(slowestMs, d.ms)
        decisions.push(d)
        for (const watcher of watchers) watcher(d)
      } catch (error) {
        errors.push(error)
      }
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs))
    }
  }
  const loops = Array.from({ length: options.concurrency }, loop)
  return {
    until(ok, timeoutMs) {
      if (decisions.some(ok)) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(watch)
          reject(new Error(`no answer as awaited within ${timeoutMs} ms (${decisions.length} answers)`))
        }, timeoutMs)
        const watch = (d: LoadDecision): void => {
          if (!ok(d)) return
          clearTimeout(timer)
          watchers.delete(watch)
          resolve()
        }
        watchers.add(watch)
      })
    },
    firstAfter: (at, source) => decisions.find((d) => d.at > at && d.source === source)?.at,
    async stop() {
      running = false
      await Promise.all(loops)
      const last = decisions.at(-1)?.at ?? performance.now()
      return { decisions, errors, slowestMs, seconds: (last - startedAt) / 1000 }
    },
  }
}

/** The event loop's worst lateness (ms) from now until `stop`: the allowance a busy machine gets. */
export function eventLoopLag(): { stop(): number } {
  let lagMs = 0
  let expected = performance.now() + 10
  const timer = setInterval(() => {
    const now = performance.now()
    lagMs = Math.max(lagMs, now - expected)
    expected = now + 10
  }, 10)
  return {
    stop() {
      clearInterval(timer)
      return lagMs
    },
  }
}

/** How many answers came from each source, for the printed figures. */
export function bySource(decisions: readonly LoadDecision[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const d of decisions) counts[d.source ?? 'http'] = (counts[d.source ?? 'http'] ?? 0) + 1
  return counts
}
