import { CircuitBreaker } from './circuit-breaker.js'
import { ErrorCodes, SluiceError } from './errors.js'
import { notify } from './observer.js'
import { MemoryStore } from './stores/memory-store.js'
import { withTimeout } from './timeout.js'
import type {
  AnswerSource,
  CheckReply,
  CheckRequest,
  CircuitBreakerOptions,
  FailureMode,
  LimiterStats,
  ResolvedPolicy,
  SluiceLogger,
  SluiceObserver,
  Store,
} from './types.js'
import { WarnThrottle } from './warn-throttle.js'

export interface FailoverOptions {
  readonly observer: SluiceObserver | undefined
  readonly timeoutMs: number
  readonly mode: FailureMode
  readonly replicas: number
  readonly circuitBreaker: Required<CircuitBreakerOptions>
  readonly logger: SluiceLogger | undefined
  readonly localMaxKeys: number
}

export interface GuardedReply {
  /** Undefined for `allow` and `deny`: no bucket was checked. */
  readonly reply: CheckReply | undefined
  /** The policies actually applied: their local shares when `source` is `local`. */
  readonly policies: readonly ResolvedPolicy[]
  readonly source: AnswerSource
}

/** The share of a policy that one replica enforces on its own while the shared store is gone. */
export function localShare(policy: ResolvedPolicy, replicas: number, cost: number): ResolvedPolicy {
  if (replicas === 1) return policy
  // Never below the cost of this request: a share too small to ever admit it would turn a
  // temporary outage into a permanent "cost exceeds capacity".
  const capacity = Math.max(Math.ceil(policy.capacity / replicas), Math.min(cost, policy.capacity))
  const refillPerSecond = policy.refillPerSecond / replicas
  return Object.freeze({
    name: policy.name,
    capacity,
    refillPerSecond,
    intervalNs: policy.intervalNs * replicas,
    windowSeconds: Math.ceil(capacity / refillPerSecond),
    shadow: policy.shadow,
  })
}

/**
 * Guards a remote store: a time budget on every call, a circuit breaker, and the failure mode
 * while either trips. Recovery is automatic: the breaker's probe finds the store again.
 */
export class Failover {
  readonly #store: Store
  readonly #options: FailoverOptions
  readonly #breaker: CircuitBreaker
  readonly #warn: WarnThrottle
  readonly #local: MemoryStore
  #storeAnswers = 0
  #degradedAnswers = 0
  #storeErrors = 0

  constructor(store: Store, options: FailoverOptions) {
    this.#store = store
    this.#options = options
    this.#breaker = new CircuitBreaker(options.circuitBreaker)
    this.#warn = new WarnThrottle(options.logger)
    this.#local = new MemoryStore({ maxKeys: options.localMaxKeys })
  }

  #observe(started: number, outcome: 'ok' | 'error' | 'timeout'): void {
    const hook = this.#options.observer?.storeCall
    if (hook !== undefined) notify(hook, { store: this.#store.kind, seconds: (performance.now() - started) / 1000, outcome })
  }

  get stats(): LimiterStats {
    return {
      storeAnswers: this.#storeAnswers,
      degradedAnswers: this.#degradedAnswers,
      storeErrors: this.#storeErrors,
      circuit: this.#breaker.state,
    }
  }

  async check(request: CheckRequest, policies: readonly ResolvedPolicy[]): Promise<GuardedReply> {
    const cached = this.#store.cached?.(request)
    if (cached !== undefined) {
      this.#storeAnswers++
      return { reply: cached, policies, source: 'store' }
    }
    let reason = 'circuit open'
    if (this.#breaker.allow()) {
      const started = performance.now()
      try {
        const reply = await withTimeout(this.#store.check(request), this.#options.timeoutMs)
        this.#observe(started, 'ok')
        this.#breaker.success()
        this.#storeAnswers++
        return { reply, policies, source: 'store' }
      } catch (error) {
        this.#observe(started, error instanceof SluiceError && error.code === ErrorCodes.STORE_TIMEOUT ? 'timeout' : 'error')
        this.#breaker.failure()
        this.#storeErrors++
        reason = error instanceof Error ? error.message : String(error)
      }
    }
    this.#degradedAnswers++
    const mode = this.#options.mode
    this.#warn.warn(
      { store: this.#store.kind, failureMode: mode, circuit: this.#breaker.state, reason, degradedAnswers: this.#degradedAnswers },
      `@sluice: the ${this.#store.kind} store is unavailable; answering in '${mode}' failure mode`,
    )
    if (mode !== 'local') return { reply: undefined, policies, source: mode }
    const shares = policies.map((policy, i) => localShare(policy, this.#options.replicas, request.buckets[i]!.cost))
    const reply = this.#local.checkSync({
      buckets: request.buckets.map((b, i) => ({ ...b, capacity: shares[i]!.capacity, intervalNs: shares[i]!.intervalNs })),
    })
    return { reply, policies: shares, source: 'local' }
  }
}
