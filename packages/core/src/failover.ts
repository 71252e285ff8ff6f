import type { CircuitBreaker, MillisClock } from './circuit-breaker.js'
import { ErrorCodes, failureText, SluiceError } from './errors.js'
import { NodeBreakers } from './node-breakers.js'
import { notify } from './observer.js'
import { promised } from './sink.js'
import { checkedReply } from './store-reply.js'
import { MemoryStore } from './stores/memory-store.js'
import type {
  AnswerSource,
  CheckReply,
  CheckRequest,
  CircuitBreakerOptions,
  Deadline,
  FailureMode,
  LeaseOp,
  LimiterStats,
  ResolvedConcurrencyPolicy,
  ResolvedPolicy,
  SettleRequest,
  Sink,
  SluiceLogger,
  SluiceObserver,
  StoreDoor,
  StoreSignal,
} from './types.js'
import { inform, WarningCodes, WarnThrottle } from './warnings.js'

export interface FailoverOptions {
  readonly observer: SluiceObserver | undefined
  readonly mode: FailureMode
  readonly replicas: number
  readonly circuitBreaker: Required<CircuitBreakerOptions>
  readonly logger: SluiceLogger
  readonly localMaxKeys: number
  /** The limiter's time budget per check, as configured: what the warnings quote. */
  readonly timeoutMs: number
  /** Monotonic ms for the breaker, the warning throttle and store-call timings (tests inject one). @default performance.now */
  readonly clock?: MillisClock
}

/** A check as the limiter builds it: its policies are the resolved ones, whose local shares the failure mode can take. */
export interface PolicyCheck extends CheckRequest {
  readonly policies: readonly ResolvedPolicy[]
}

export interface GuardedReply {
  /** Undefined for `allow` and `deny`: no bucket was checked. */
  readonly reply: CheckReply | undefined
  /** The policies actually applied: their local shares when `source` is `local`. */
  readonly policies: readonly ResolvedPolicy[]
  /** The in-flight limits actually applied (local shares when `source` is `local`); absent without slots. */
  readonly slots?: readonly ResolvedConcurrencyPolicy[]
  readonly source: AnswerSource
}

/** The share of an in-flight limit one replica holds on its own while the shared store is gone: ⌈n ÷ replicas⌉. */
export function localSlotShare(policy: ResolvedConcurrencyPolicy, replicas: number): ResolvedConcurrencyPolicy {
  if (replicas === 1) return policy
  return Object.freeze({ ...policy, concurrency: Math.ceil(policy.concurrency / replicas) })
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
 * The one guard on the one path into a store (its door): a store that can fail is called by its
 * request's deadline (the door keeps it: a timer, or the Redis store's own), behind a circuit
 * breaker, and the failure mode answers while either trips; recovery is automatic, as the
 * breaker's probe finds the store again. A store that cannot fail (in process) is called
 * straight through.
 */
export class Failover {
  readonly #door: StoreDoor
  readonly #options: FailoverOptions
  /** One breaker per node the door's calls go to (store-door.ts's `nodeOf`). */
  readonly #breakers: NodeBreakers
  readonly #warn: WarnThrottle
  readonly #local: MemoryStore
  readonly #clock: MillisClock
  #storeAnswers = 0
  #degradedAnswers = 0
  #storeErrors = 0

  constructor(door: StoreDoor, options: FailoverOptions) {
    this.#door = door
    this.#options = options
    this.#clock = options.clock ?? (() => performance.now())
    const store = door.kind
    this.#breakers = new NodeBreakers(options.circuitBreaker, this.#clock, (state) => notify(options.observer, 'circuit', { store, state }))
    // The gauge's first value: a store that can fail starts closed.
    if (door.caps.canFail) notify(options.observer, 'circuit', { store, state: 'closed' })
    this.#warn = new WarnThrottle(options.logger, WarningCodes.STORE_UNAVAILABLE, undefined, this.#clock)
    this.#local = new MemoryStore({ maxKeys: options.localMaxKeys })
    if (door.onFirstSignal !== undefined && typeof options.logger.info === 'function') {
      door.onFirstSignal((signal) => this.#startupLine(signal))
    }
  }

  /** The one start-up line, through the logger's `info`: the store was reached, or is failing and why. */
  #startupLine(signal: StoreSignal): void {
    const { logger, timeoutMs, mode } = this.#options
    const store = this.#door.kind
    if (signal.reached) {
      inform(
        logger,
        { store, timeoutMs, failureMode: mode },
        `@sluice: the ${store} store is reached; each check waits at most ${timeoutMs} ms for it (timeoutMs)`,
      )
      return
    }
    inform(
      logger,
      { store, cause: signal.cause, timeoutMs, failureMode: mode },
      `@sluice: the ${store} store is failing (${signal.cause}); until it is reached, checks are answered in '${mode}' failure mode, each after at most ${timeoutMs} ms (timeoutMs)`,
    )
  }

  #observe(started: number, route: string, outcome: 'ok' | 'error' | 'timeout'): void {
    const observer = this.#options.observer
    if (observer?.storeCall !== undefined) {
      notify(observer, 'storeCall', { store: this.#door.kind, route, seconds: (this.#clock() - started) / 1000, outcome })
    }
  }

  /** This replica's failure-mode buckets. */
  get local(): MemoryStore {
    return this.#local
  }

  get stats(): LimiterStats {
    return {
      storeAnswers: this.#storeAnswers,
      degradedAnswers: this.#degradedAnswers,
      storeErrors: this.#storeErrors,
      circuit: this.#breakers.state,
    }
  }

  /** A failed store call (or a broken `cached()`), counted and timed; what the warning says of it. */
  #failed(breaker: CircuitBreaker, started: number, route: string, error: unknown): string {
    this.#observe(started, route, error instanceof SluiceError && error.code === ErrorCodes.STORE_TIMEOUT ? 'timeout' : 'error')
    breaker.failure()
    this.#storeErrors++
    return failureText(error)
  }

  #started(): number {
    return this.#options.observer?.storeCall === undefined ? 0 : this.#clock()
  }

  /** A check through the door by `deadline` for `route` (what the store-call event names), or the failure mode's answer. */
  check(request: PolicyCheck, deadline: Deadline, route = '*', slots?: readonly ResolvedConcurrencyPolicy[]): Promise<GuardedReply> {
    return promised((sink) => this.checkInto(request, deadline, route, slots, sink))
  }

  /** `check`, answering `sink` (sink.ts): a limiter's check, with no promise of its own. */
  checkInto(
    request: PolicyCheck,
    deadline: Deadline,
    route: string,
    slots: readonly ResolvedConcurrencyPolicy[] | undefined,
    sink: Sink<GuardedReply>,
  ): void {
    const door = this.#door
    const withSlots = slots === undefined || slots.length === 0 ? undefined : slots
    const fromStore = (reply: CheckReply): GuardedReply =>
      withSlots === undefined
        ? { reply, policies: request.policies, source: 'store' }
        : { reply, policies: request.policies, source: 'store', slots: withSlots }
    if (!door.caps.canFail) {
      const straight: Sink<CheckReply> = {
        resolve: (reply) => {
          this.#storeAnswers++
          sink.resolve(fromStore(reply))
        },
        reject: (error) => sink.reject(error),
      }
      try {
        door.check(request, deadline, straight)
      } catch (error) {
        straight.reject(error)
      }
      return
    }
    // The breaker of the node this check goes to: a dead Cluster master's opens, the others' stay closed.
    let node: string
    try {
      node = door.nodeOf(request)
    } catch (error) {
      sink.reject(error)
      return
    }
    const breaker = this.#breakers.of(node)
    // A store's own answers, cached or not, are checked field by field: one that throws or
    // answers nonsense has failed, and the failure mode answers.
    if (door.cached !== undefined) {
      const started = this.#started()
      let reply: CheckReply | undefined
      try {
        const cached = door.cached(request)
        if (cached !== undefined) reply = checkedReply(cached, request, door.kind)
      } catch (error) {
        this.#answerDegraded(request, breaker, node, this.#failed(breaker, started, route, error), slots, sink)
        return
      }
      if (reply !== undefined) {
        this.#storeAnswers++
        sink.resolve(fromStore(reply))
        return
      }
    }
    if (!breaker.allow()) {
      this.#answerDegraded(request, breaker, node, 'circuit open', slots, sink)
      return
    }
    const started = this.#started()
    const guarded: Sink<CheckReply> = {
      resolve: (answer) => {
        let reply: CheckReply
        try {
          reply = checkedReply(answer, request, door.kind)
        } catch (error) {
          this.#answerDegraded(request, breaker, node, this.#failed(breaker, started, route, error), slots, sink)
          return
        }
        this.#observe(started, route, 'ok')
        breaker.success()
        this.#storeAnswers++
        sink.resolve(fromStore(reply))
      },
      reject: (error) => this.#answerDegraded(request, breaker, node, this.#failed(breaker, started, route, error), slots, sink),
    }
    // A door that throws (ours answer their sink instead) has failed like one that rejects.
    try {
      door.check(request, deadline, guarded)
    } catch (error) {
      guarded.reject(error)
    }
  }

  /** The failure mode's answer to `sink`; a failure mode that throws (it should not) rejects it. */
  #answerDegraded(
    request: PolicyCheck,
    breaker: CircuitBreaker,
    node: string,
    reason: string,
    slots: readonly ResolvedConcurrencyPolicy[] | undefined,
    sink: Sink<GuardedReply>,
  ): void {
    let answer: GuardedReply
    try {
      answer = this.#degraded(request, breaker, node, reason, slots)
    } catch (error) {
      sink.reject(error)
      return
    }
    sink.resolve(answer)
  }

  /**
   * Renew or release leases by `deadline`: a lease taken by the failure mode (`local`) in this
   * replica's own memory, any other through the door. Not counted against the breakers (the
   * checks are their measure), but sent nowhere while its node's is open: the caller retries
   * later. Rejects when the store fails.
   */
  leases(ops: readonly LeaseOp[], local: boolean, deadline: Deadline): Promise<boolean[]> {
    if (local) return Promise.resolve(this.#local.runLeasesSync(ops))
    const door = this.#door
    if (door.runLeases === undefined) {
      return Promise.reject(new SluiceError(ErrorCodes.STORE_UNAVAILABLE, '@sluice: the store holds no leases'))
    }
    if (door.caps.canFail && ops.some((op) => this.#breakers.of(door.nodeOf({ keys: [op.lease.key] })).state === 'open')) {
      return Promise.reject(new SluiceError(ErrorCodes.STORE_UNAVAILABLE, '@sluice: the circuit is open; nothing was sent'))
    }
    return door.runLeases(ops, deadline)
  }

  /**
   * A settle of a check this guard answered: `local` when the local buckets answered it (they
   * get the settle), else the store's buckets, or nothing: a store answer is never settled
   * locally. Sent only while its node's circuit is closed (a probe is a check's), by `deadline`; past
   * it refused unsent, so an undefined answer means provably not applied. Never rejects.
   */
  async settle(request: SettleRequest, local: boolean, deadline: Deadline): Promise<CheckReply | undefined> {
    if (local) return this.#local.settleSync(request)
    const door = this.#door
    // The breaker of the node the settle goes to, as its check's.
    const breaker = door.caps.canFail ? this.#breakers.of(door.nodeOf(request)) : undefined
    if (breaker !== undefined && breaker.state !== 'closed') return undefined
    try {
      const [reply] = await door.run([{ op: 'settle', request }], deadline)
      return reply
    } catch {
      if (breaker !== undefined) {
        breaker.failure()
        this.#storeErrors++
      }
      return undefined
    }
  }

  /** The failure mode's answer, said out loud (rate-limited) and counted. */
  #degraded(
    request: PolicyCheck,
    breaker: CircuitBreaker,
    node: string,
    reason: string,
    slots?: readonly ResolvedConcurrencyPolicy[],
  ): GuardedReply {
    this.#degradedAnswers++
    const { mode, timeoutMs } = this.#options
    // What the store's client last said (ECONNREFUSED, NOAUTH, CLUSTERDOWN…): the real cause
    // behind a refusal at the deadline, or an open circuit.
    const cause = this.#door.cause?.()
    // In the message, the refusal without the prefix of the message it is part of.
    const refusal = reason.replace(/^@sluice: /, '')
    const why = cause === undefined || cause === reason ? refusal : `${cause}; ${refusal}`
    this.#warn.warn(
      {
        store: this.#door.kind,
        failureMode: mode,
        circuit: breaker.state,
        ...(node === this.#door.kind ? {} : { node }),
        reason,
        ...(cause === undefined ? {} : { cause }),
        timeoutMs,
        degradedAnswers: this.#degradedAnswers,
      },
      `@sluice: the ${this.#door.kind} store is unavailable (${why}); answering in '${mode}' failure mode (timeoutMs: ${timeoutMs} ms)`,
    )
    if (mode !== 'local') return { reply: undefined, policies: request.policies, source: mode }
    const { replicas } = this.#options
    const shares = request.policies.map((policy) => localShare(policy, replicas, request.cost))
    if (slots === undefined || slots.length === 0 || request.slots === undefined) {
      return {
        reply: this.#local.checkSync({ keys: request.keys, policies: shares, cost: request.cost }),
        policies: shares,
        source: 'local',
      }
    }
    // Local slots are this replica's share, invisible to the store (and released here).
    const slotShares = slots.map((policy) => localSlotShare(policy, replicas))
    const local = request.slots.map((slot, i) => ({ ...slot, limit: slotShares[i]!.concurrency }))
    const reply = this.#local.checkSync({ keys: request.keys, policies: shares, cost: request.cost, slots: local })
    return { reply, policies: shares, slots: slotShares, source: 'local' }
  }
}
