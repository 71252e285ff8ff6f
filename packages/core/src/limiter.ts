import type { CheckReply, CheckRequest } from './bucket.js'
import { ErrorCodes, SluiceError } from './errors.js'
import { type AnswerSource, Failover, type LimiterStats } from './failover.js'
import { rateLimitHeaders } from './headers.js'
import { apiKeyClientId, bucketKey, customClientId, ipClientId, routeBucketId } from './keys.js'
import {
  type CostOption,
  type KeyOption,
  type LimiterOptions,
  ROUTE_OPTION_NAMES,
  type ResolvedLimiterOptions,
  type ResolvedPolicy,
  type RouteLimitOptions,
  assertKnownOptions,
  assertPlainObject,
  checkedCost,
  resolveCost,
  resolveKey,
  resolveLimiterOptions,
  resolvePolicy,
} from './options.js'
import { type ProblemDetails, costExceedsCapacity, limiterUnavailable, missingApiKey, quotaExceeded } from './problem.js'
import type { RateLimitResult } from './result.js'

/** What the limiter needs to know about a request, whatever the framework. */
export interface RequestView {
  /** The client address as the framework resolved it under its trust-proxy setting. */
  readonly ip: string | undefined
  /** A request header's value (lower-case name); undefined when absent. */
  header(name: string): string | string[] | undefined
}

/** What an adapter does with a request: set `headers`, and when `deny` is set, answer with it. */
export interface Decision {
  /** Undefined when no bucket was checked (a missing API key, or the `allow`/`deny` failure modes). */
  readonly result: RateLimitResult | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly deny: ProblemDetails | undefined
  /** Where the answer came from: the store, or a failure mode. */
  readonly source: AnswerSource
}

/** A policy bound to a route: checks a request against its bucket. */
export interface RouteLimiter<Req> {
  readonly policy: ResolvedPolicy
  check(request: Req, view: RequestView): Promise<Decision>
}

export interface Limiter<Req> {
  readonly options: ResolvedLimiterOptions<Req>
  /**
   * Bind the limiter to a route. `config` is the route's own setting: undefined for the
   * limiter's policy, `false` to exempt the route (returns null), or an override.
   */
  forRoute(config: RouteLimitOptions<Req> | false | undefined, method: string, url: string): RouteLimiter<Req> | null
  /** Counters for metrics: answers by source, store errors, the circuit's state. */
  stats(): LimiterStats
}

interface Checker {
  check(request: CheckRequest, policy: ResolvedPolicy): Promise<{ reply: CheckReply | undefined; policy: ResolvedPolicy; source: AnswerSource }>
  stats(): LimiterStats
}

/** An in-process store cannot fail, so it needs no guard; any other store gets one. */
function checkerFor(options: ResolvedLimiterOptions<unknown>): Checker {
  if (options.store.kind === 'memory') {
    let answers = 0
    return {
      async check(request, policy) {
        answers++
        return { reply: await options.store.check(request), policy, source: 'store' }
      },
      stats: () => ({ storeAnswers: answers, degradedAnswers: 0, storeErrors: 0, circuit: 'closed' }),
    }
  }
  const failover = new Failover(options.store, {
    timeoutMs: options.timeoutMs,
    mode: options.failureMode,
    replicas: options.replicas,
    circuitBreaker: options.circuitBreaker,
    logger: options.logger,
    localMaxKeys: options.memoryMaxKeys,
  })
  return { check: (request, policy) => failover.check(request, policy), stats: () => failover.stats }
}

/** Validate options once and build the limiter. */
export function createLimiter<Req>(input: LimiterOptions<Req>, adapterOptions: readonly string[] = []): Limiter<Req> {
  const options = resolveLimiterOptions<Req>(input, adapterOptions)
  const checker = checkerFor(options as ResolvedLimiterOptions<unknown>)
  const shared = bindRoute(options, checker, options.policy, options.policy.name, options.key, options.cost)

  return {
    options,
    stats: () => checker.stats(),
    forRoute(config, method, url) {
      if (config === false) return null
      if (config === undefined) return shared
      assertPlainObject(config, 'config.rateLimit')
      assertKnownOptions(config, ROUTE_OPTION_NAMES, 'config.rateLimit.')
      const ownBucket = config.capacity !== undefined || config.refillPerSecond !== undefined || config.name !== undefined
      const policy = ownBucket
        ? resolvePolicy(
            {
              capacity: config.capacity ?? options.policy.capacity,
              refillPerSecond: config.refillPerSecond ?? options.policy.refillPerSecond,
              name: config.name ?? options.policy.name,
            },
            'config.rateLimit.',
          )
        : options.policy
      const bucketId = ownBucket ? routeBucketId(policy.name, method, url) : policy.name
      const key = config.key === undefined ? options.key : resolveKey<Req>(config.key, 'config.rateLimit.key')
      const cost =
        config.cost === undefined
          ? resolveCost<Req>(options.cost, 'cost', policy.capacity)
          : resolveCost<Req>(config.cost, 'config.rateLimit.cost', policy.capacity)
      return bindRoute(options, checker, policy, bucketId, key, cost)
    },
  }
}

function bindRoute<Req>(
  options: ResolvedLimiterOptions<Req>,
  checker: Checker,
  policy: ResolvedPolicy,
  bucketId: string,
  key: KeyOption<Req>,
  cost: CostOption<Req>,
): RouteLimiter<Req> {
  return {
    policy,
    async check(request, view) {
      const clientId = await resolveClientId(key, request, view, options.ipv6Subnet)
      if (clientId === undefined) {
        const header = (key as { header: string }).header
        return { result: undefined, headers: {}, deny: missingApiKey(header), source: 'store' }
      }
      const tokens = typeof cost === 'number' ? cost : checkedCost(cost(request))
      const storeKey = bucketKey(options.prefix, clientId, bucketId)
      const answer = await checker.check({ key: storeKey, capacity: policy.capacity, intervalNs: policy.intervalNs, cost: tokens }, policy)
      if (answer.reply === undefined) {
        // `allow` and `deny` failure modes measured nothing, so they claim no quota.
        return { result: undefined, headers: {}, deny: answer.source === 'deny' ? limiterUnavailable() : undefined, source: answer.source }
      }
      const { reply } = answer
      const result: RateLimitResult = {
        ...reply,
        allowed: reply.status === 'allowed',
        policy: answer.policy,
        limit: answer.policy.capacity,
        cost: tokens,
        key: storeKey,
        degraded: answer.source !== 'store',
      }
      const deny =
        reply.status === 'allowed' ? undefined : reply.status === 'denied' ? quotaExceeded(result) : costExceedsCapacity(result)
      return { result, headers: rateLimitHeaders(result), deny, source: answer.source }
    },
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined || first === '' ? undefined : first
}

async function resolveClientId<Req>(key: KeyOption<Req>, request: Req, view: RequestView, ipv6Subnet: number): Promise<string | undefined> {
  if (key === 'ip') return ipClientId(view.ip, ipv6Subnet)
  if (typeof key === 'function') {
    const id = await key(request)
    if (typeof id !== 'string' || id === '') {
      throw new SluiceError(ErrorCodes.INVALID_REQUEST_VALUE, `@sluice: the \`key\` function must return a non-empty string, got ${typeof id === 'string' ? '""' : typeof id}`)
    }
    return customClientId(id)
  }
  const apiKey = firstHeader(view.header(key.header))
  if (apiKey !== undefined) return apiKeyClientId(apiKey)
  return key.missing === 'reject' ? undefined : ipClientId(view.ip, ipv6Subnet)
}
