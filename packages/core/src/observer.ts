import type { Decision } from './limiter.js'

/** One checked request, as an observer sees it. */
export interface DecisionEvent {
  /** The route the check ran on (`GET /search`), or `*` for middleware mounted without one. */
  readonly route: string
  readonly decision: Decision
}

/** One store call, timed from the request's point of view (coalescing wait included). */
export interface StoreCallEvent {
  readonly store: string
  readonly seconds: number
  readonly outcome: 'ok' | 'error' | 'timeout'
}

/**
 * Hooks for metrics and tracing. They run synchronously on the request path, so keep them
 * cheap; an observer that throws is ignored rather than failing the request.
 */
export interface SluiceObserver {
  decision?(event: DecisionEvent): void
  storeCall?(event: StoreCallEvent): void
}

/** Call an observer hook, never letting it break a request. */
export function notify<E>(hook: ((event: E) => void) | undefined, event: E): void {
  if (hook === undefined) return
  try {
    hook(event)
  } catch {
    // An observer is a bystander: its failure must not become the request's.
  }
}
