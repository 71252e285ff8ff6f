import { type BucketClaim, BucketClaims } from './bucket-claims.js'
import { ClientIdentity } from './client-identity.js'
import { deadlineIn } from './deadline.js'
import { denialFor } from './deny-body.js'
import { type Admission, composeEnd, type EndStep, type OnEnd } from './end-steps.js'
import { Failover, type GuardedReply } from './failover.js'
import { policyHeader, rateLimitHeaders } from './headers.js'
import { bucketKey, slotSetId } from './keys.js'
import { type Lease, LeaseKeeper, nextLeaseId } from './leases.js'
import { notify } from './observer.js'
import { isConcurrency } from './policies.js'
import { LIMITER_UNAVAILABLE } from './problem.js'
import { Settler } from './settle.js'
import { promised } from './sink.js'
import { assertCapabilities } from './store-door.js'
import { summarize } from './summarize.js'
import { isThenable } from './thenable.js'
import type {
  AnyResolvedPolicy,
  Binding,
  Decision,
  Denial,
  RateLimitResult,
  ResolvedConcurrencyPolicy,
  ResolvedOptions,
  ResolvedPolicy,
  SettleOption,
  Sink,
  SlotClaim,
  SluiceStats,
} from './types.js'
import { WarningCodes, WarnOnce, WarnThrottle } from './warnings.js'

/** The end step of a route with in-flight limits: its request's slots go back once its response has ended. */
const releaseStep = (admission: Admission): OnEnd<unknown, unknown> | undefined => {
  const lease = admission.lease
  // Never awaited, never rejecting (Lease.release retries and resolves).
  return lease === undefined ? undefined : () => void lease.release()
}

/** One measurement of a client's buckets: undefined when the `allow` or `deny` failure mode measured nothing. */
export interface Measured {
  readonly result: RateLimitResult | undefined
  readonly source: GuardedReply['source']
  /** The slots this check took, to release when the response ends: absent when it took none. */
  readonly lease?: Lease
}

/**
 * What every route of one limiter shares: its options, its guarded store, its claims on bucket
 * ids, its warnings and counters. Binds policies to bucket ids, measures a client's buckets, and
 * turns a measurement into the decision an adapter sends. Every route holds its core: once the
 * core is collected, no check can reach its buckets any more, and its claims go.
 */
export class LimiterCore<Req> {
  readonly options: ResolvedOptions<Req>
  readonly once: WarnOnce
  readonly identity: ClientIdentity<Req>
  /** The one guard on the one path into the store. */
  readonly failover: Failover
  /** The slots this process holds open: renewed while open, released once. */
  readonly leases: LeaseKeeper
  /** Settles of admitted results: the `settle` option's end step, and `settle()` by hand. */
  readonly settler: Settler<Req>
  readonly #shadow: WarnThrottle
  readonly #denyBodyFailed: WarnThrottle
  /** Every bucket id any route of this limiter checks: what a reset deletes. */
  readonly #bucketIds = new Set<string>()
  /** This limiter's claims on its bucket ids' shapes, among every limiter on the same store. */
  readonly #claims: BucketClaims
  #shadowDenials = 0
  #skipped = 0

  constructor(options: ResolvedOptions<Req>) {
    this.options = options
    this.failover = new Failover(options.door, {
      observer: options.observer,
      mode: options.failureMode,
      replicas: options.replicas,
      circuitBreaker: options.circuitBreaker,
      logger: options.logger,
      localMaxKeys: options.memoryMaxKeys,
      timeoutMs: options.timeoutMs,
    })
    this.settler = new Settler<Req>({
      failover: this.failover,
      observer: options.observer,
      logger: options.logger,
      timeoutMs: options.timeoutMs,
    })
    this.once = new WarnOnce(options.logger)
    this.identity = new ClientIdentity<Req>(this.once, options.ipv6Subnet)
    this.#shadow = new WarnThrottle(options.logger, WarningCodes.SHADOW_DENIAL)
    this.#denyBodyFailed = new WarnThrottle(options.logger, WarningCodes.DENY_BODY_FAILED)
    this.#claims = new BucketClaims(options.door.store, options.prefix, this)
    this.leases = new LeaseKeeper(this.failover, options.logger)
  }

  /**
   * Policies and their buckets' ids, claimed for this shape (an option error when another limiter
   * or route on the same store and prefix checks one of those ids with other numbers).
   * `optionOf(i)` names policy `i`'s option as the user wrote it, for that error. A reset deletes
   * these buckets, unless `resettable` is false (a handler's manual policies).
   */
  bind(policies: readonly AnyResolvedPolicy[], bucketIds: readonly string[], optionOf: (i: number) => string, resettable = true): Binding {
    const buckets: ResolvedPolicy[] = []
    const ids: string[] = []
    const slots: ResolvedConcurrencyPolicy[] = []
    const slotIds: string[] = []
    const claims: BucketClaim[] = []
    policies.forEach((policy, i) => {
      if (isConcurrency(policy)) {
        // Slots ask for a store with leases, wherever they are declared (a route, a tier, a handler).
        assertCapabilities(this.options.door, ['leases'], optionOf(i).replace(/name$/, 'concurrency'))
        slots.push(policy)
        slotIds.push(slotSetId(bucketIds[i]!))
        claims.push({ bucketId: slotIds.at(-1)!, policy, option: optionOf(i) })
      } else {
        buckets.push(policy)
        ids.push(bucketIds[i]!)
        claims.push({ bucketId: bucketIds[i]!, policy, option: optionOf(i) })
      }
    })
    this.#claims.claim(claims)
    if (resettable) for (const id of ids) this.#bucketIds.add(id)
    return Object.freeze({
      policies: Object.freeze(buckets),
      bucketIds: Object.freeze(ids),
      slots: Object.freeze(slots),
      slotIds: Object.freeze(slotIds),
      // Buckets first, then in-flight limits: the order of the RateLimit header's members.
      policyHeader: policyHeader([...buckets, ...slots]),
    })
  }

  /** Give back this limiter's claims on its buckets' ids. */
  release(): void {
    this.#claims.release()
    this.leases.close()
  }

  /** The store keys of a client's buckets in a binding. */
  keys(clientId: string, binding: Binding): string[] {
    return binding.bucketIds.map((id) => bucketKey(this.options.prefix, clientId, id))
  }

  /** The slots a client's check asks for in a binding, each with a fresh lease id; undefined when it has none. */
  slots(clientId: string, binding: Binding): SlotClaim[] | undefined {
    if (binding.slots.length === 0) return undefined
    return binding.slots.map((policy, i) => ({
      key: bucketKey(this.options.prefix, clientId, binding.slotIds[i]!),
      limit: policy.concurrency,
      leaseMs: policy.leaseMs,
      leaseId: nextLeaseId(),
    }))
  }

  /** The keys of every bucket of a client a reset deletes; forgotten here, in the failure-mode buckets. */
  forget(clientId: string): string[] {
    const keys = [...this.#bucketIds].map((id) => bucketKey(this.options.prefix, clientId, id))
    this.failover.local.forget(keys)
    return keys
  }

  /**
   * One check of a client's buckets through the store (or the failure mode), summarized. The
   * request's deadline is made here, once: `timeoutMs` from now. `route` names the check's route
   * in the store-call event.
   */
  measure(clientId: string, binding: Binding, tokens: number, route: string): Promise<Measured> {
    return promised((sink) => this.measureInto(clientId, binding, tokens, route, sink))
  }

  /** `measure`, answering `sink` (sink.ts): a route's check, with no promise of its own. */
  measureInto(clientId: string, binding: Binding, tokens: number, route: string, sink: Sink<Measured>): void {
    const keys = this.keys(clientId, binding)
    const deadline = deadlineIn(this.options.timeoutMs)
    const slots = this.slots(clientId, binding)
    const sentAt = performance.now()
    const request =
      slots === undefined ? { keys, policies: binding.policies, cost: tokens } : { keys, policies: binding.policies, cost: tokens, slots }
    this.failover.checkInto(request, deadline, route, binding.slots, {
      resolve: (answer) => {
        let measured: Measured
        try {
          measured = this.#measured(answer, keys, tokens, slots, sentAt)
        } catch (error) {
          sink.reject(error)
          return
        }
        sink.resolve(measured)
      },
      reject: (error) => sink.reject(error),
    })
  }

  /** A guarded reply, summarized: its lease opened, its admission issued for settling, its shadow denials said. */
  #measured(answer: GuardedReply, keys: string[], tokens: number, slots: SlotClaim[] | undefined, sentAt: number): Measured {
    if (answer.reply === undefined) return { result: undefined, source: answer.source }
    const result = summarize(answer.reply, answer.policies, keys, tokens, answer.source !== 'store', answer.slots, slots)
    const lease = slots === undefined ? undefined : this.leases.opened(answer.reply, slots, answer.source === 'local', sentAt)
    if (result.allowed) this.settler.issue(result)
    for (const p of result.policies) {
      if (p.policy.shadow && p.status !== 'allowed') {
        this.#shadowDenials++
        this.#shadow.warn(
          { policy: p.policy.name, key: p.key, shadowDenials: this.#shadowDenials },
          `@sluice: shadow policy "${p.policy.name}" would have denied a request`,
        )
      }
    }
    return lease === undefined ? { result, source: answer.source } : { result, source: answer.source, lease }
  }

  /**
   * The end steps of a route (end-steps.ts), made once when it is bound: its `settle`, if any
   * (issue 22 adds its leases' release here).
   */
  endSteps(settle: SettleOption<Req> | undefined, leases: boolean): readonly EndStep<Req, unknown>[] {
    const steps: EndStep<Req, unknown>[] = []
    if (settle !== undefined) steps.push(this.settler.step(settle))
    if (leases) steps.push(releaseStep)
    return steps
  }

  /** What an admitted measurement's request does once its response has ended; undefined when nothing. */
  onEnd(route: string, steps: readonly EndStep<Req, unknown>[], measured: Measured): OnEnd<Req, unknown> | undefined {
    const { result } = measured
    if (steps.length === 0 || result === undefined || !result.allowed) return undefined
    return composeEnd(steps, measured.lease === undefined ? { route, result } : { route, result, lease: measured.lease })
  }

  /**
   * The decision for a measurement of `binding` on `route`: headers, and the denial to send, if
   * any; `onEnd` for an admitted one, what its end does. Synchronous unless `denyBody` returns a
   * promise.
   */
  decide(
    route: string,
    binding: Binding,
    measured: Measured,
    request: Req,
    onEnd?: OnEnd<Req, unknown>,
  ): Decision<Req, unknown> | Promise<Decision<Req, unknown>> {
    const { result, source } = measured
    if (result === undefined) {
      // `allow` and `deny` failure modes measured nothing, so they claim no quota.
      return this.observe(
        route,
        source === 'deny'
          ? { result: undefined, headers: {}, deny: LIMITER_UNAVAILABLE, source, outcome: 'unavailable' }
          : { result: undefined, headers: {}, deny: undefined, source, outcome: 'allowed' },
      )
    }
    // Local shares are other policies than the route's, so their header is built afresh.
    const constant = source === 'store' ? binding.policyHeader : undefined
    const headers = rateLimitHeaders(result, this.options.headers, constant)
    const lease = measured.lease
    const send = (deny: Denial | undefined): Decision<Req, unknown> => {
      const decision: Decision<Req, unknown> =
        onEnd === undefined || deny !== undefined
          ? { result, headers, deny, source, outcome: result.status }
          : { result, headers, deny, source, outcome: result.status, onEnd }
      return this.observe(route, lease === undefined ? decision : { ...decision, release: () => lease.release() })
    }
    const refusal = result.allowed ? undefined : denialFor(this.options.denyBody, this.#denyBodyFailed, result, request)
    return isThenable(refusal) ? Promise.resolve(refusal).then(send) : send(refusal)
  }

  /** A decision, told to the observer. */
  observe<D extends Decision<Req, unknown>>(route: string, decision: D): D {
    notify(this.options.observer, 'decision', { route, decision })
    return decision
  }

  /** A request `allowList` or `skip` exempted on `route`: counted, and told to the observer. */
  skipped(route: string): undefined {
    this.#skipped++
    notify(this.options.observer, 'skipped', { route })
    return undefined
  }

  stats(): SluiceStats {
    return {
      ...this.failover.stats,
      skipped: this.#skipped,
      shadowDenials: this.#shadowDenials,
      unknownIp: this.identity.unknownIp,
      ...this.settler.stats,
      ...this.leases.stats,
    }
  }
}
