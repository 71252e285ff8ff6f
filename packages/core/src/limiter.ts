import { ErrorCodes, SluiceError } from './errors.js'
import { rateLimitHeaders } from './headers.js'
import { apiKeyClientId, bucketKey, customClientId, ipClientId, routeBucketId } from './keys.js'
import {
  type CostOption,
  DEFAULTS,
  type KeyOption,
  LIMITER_OPTION_NAMES,
  type LimiterOptions,
  ROUTE_OPTION_NAMES,
  type ResolvedPolicy,
  type RouteLimitOptions,
  assertKnownOptions,
  assertPlainObject,
  checkedCost,
  resolveCost,
  resolveKey,
  resolvePolicy,
} from './options.js'
import { type ProblemDetails, costExceedsCapacity, missingApiKey, quotaExceeded } from './problem.js'
import type { RateLimitResult } from './result.js'
import { MemoryStore } from './stores/memory-store.js'
import { RedisStore } from './stores/redis-store.js'
import type { Store } from './stores/store.js'

/** What the limiter needs to know about a request, whatever the framework. */
export interface RequestView {
  /** The client address as the framework resolved it under its trust-proxy setting. */
  readonly ip: string | undefined
  /** A request header's value (lower-case name); undefined when absent. */
  header(name: string): string | string[] | undefined
}

/** What an adapter does with a request: set `headers`, and when `deny` is set, answer with it. */
export interface Decision {
  /** Undefined when no bucket was checked (a required API key was missing). */
  readonly result: RateLimitResult | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly deny: ProblemDetails | undefined
}

/** A policy bound to a route: checks a request against its bucket. */
export interface RouteLimiter<Req> {
  readonly policy: ResolvedPolicy
  check(request: Req, view: RequestView): Promise<Decision>
}

/** The resolved, frozen options; nothing downstream re-checks them. */
export interface ResolvedLimiterOptions<Req> {
  readonly store: Store
  readonly policy: ResolvedPolicy
  readonly key: KeyOption<Req>
  readonly cost: CostOption<Req>
  readonly prefix: string
  readonly ipv6Subnet: number
}

export interface Limiter<Req> {
  readonly options: ResolvedLimiterOptions<Req>
  /**
   * Bind the limiter to a route. `config` is the route's own setting: undefined for the
   * limiter's policy, `false` to exempt the route (returns null), or an override.
   */
  forRoute(config: RouteLimitOptions<Req> | false | undefined, method: string, url: string): RouteLimiter<Req> | null
}

const PREFIX = /^[^{}\s]{0,64}$/

function isRedisClient(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as { defineCommand?: unknown }).defineCommand === 'function'
}

/**
 * Validate options once and build the limiter. `adapterOptions` names options the adapter reads
 * itself, so they are not reported as unknown.
 */
export function createLimiter<Req>(input: LimiterOptions<Req>, adapterOptions: readonly string[] = []): Limiter<Req> {
  assertPlainObject(input, 'options')
  const raw = input as unknown as Record<string, unknown>
  assertKnownOptions(raw, [...LIMITER_OPTION_NAMES, ...adapterOptions])
  const policy = resolvePolicy(raw)
  if (raw.redis !== undefined && !isRedisClient(raw.redis)) {
    throw new SluiceError(ErrorCodes.INVALID_OPTION, '@sluice: invalid option `redis`: expected an ioredis Redis or Cluster client')
  }
  if (raw.store !== undefined && typeof (raw.store as Store | null)?.check !== 'function') {
    throw new SluiceError(ErrorCodes.INVALID_OPTION, '@sluice: invalid option `store`: expected an object with a check(request) method')
  }
  const prefix = raw.prefix ?? DEFAULTS.prefix
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new SluiceError(ErrorCodes.INVALID_OPTION, `@sluice: invalid option \`prefix\`: expected at most 64 characters without braces or spaces, got ${JSON.stringify(prefix)}`)
  }
  const ipv6Subnet = raw.ipv6Subnet ?? DEFAULTS.ipv6Subnet
  if (typeof ipv6Subnet !== 'number' || !Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128) {
    throw new SluiceError(ErrorCodes.INVALID_OPTION, `@sluice: invalid option \`ipv6Subnet\`: expected a whole number from 1 to 128, got ${String(ipv6Subnet)}`)
  }
  const memoryMaxKeys = raw.memoryMaxKeys ?? DEFAULTS.memoryMaxKeys
  if (typeof memoryMaxKeys !== 'number' || !Number.isInteger(memoryMaxKeys) || memoryMaxKeys < 1) {
    throw new SluiceError(ErrorCodes.INVALID_OPTION, `@sluice: invalid option \`memoryMaxKeys\`: expected a whole number ≥ 1, got ${String(memoryMaxKeys)}`)
  }
  const store =
    (raw.store as Store | undefined) ??
    (raw.redis !== undefined ? new RedisStore(raw.redis as LimiterOptions<Req>['redis'] & object) : new MemoryStore({ maxKeys: memoryMaxKeys }))

  const options: ResolvedLimiterOptions<Req> = Object.freeze({
    store,
    policy,
    key: resolveKey<Req>(raw.key, 'key'),
    cost: resolveCost<Req>(raw.cost, 'cost', policy.capacity),
    prefix,
    ipv6Subnet,
  })
  const shared = bindRoute(options, options.policy, options.policy.name, options.key, options.cost)

  return {
    options,
    forRoute(config, method, url) {
      if (config === false) return null
      if (config === undefined) return shared
      assertPlainObject(config, 'config.rateLimit')
      const route = config as Record<string, unknown>
      assertKnownOptions(route, ROUTE_OPTION_NAMES, 'config.rateLimit.')
      const ownBucket = route.capacity !== undefined || route.refillPerSecond !== undefined || route.name !== undefined
      const routePolicy = ownBucket
        ? resolvePolicy(
            {
              capacity: route.capacity ?? options.policy.capacity,
              refillPerSecond: route.refillPerSecond ?? options.policy.refillPerSecond,
              name: route.name ?? options.policy.name,
            },
            'config.rateLimit.',
          )
        : options.policy
      const bucketId = ownBucket ? routeBucketId(routePolicy.name, method, url) : routePolicy.name
      const key = route.key === undefined ? options.key : resolveKey<Req>(route.key, 'config.rateLimit.key')
      const cost =
        route.cost === undefined
          ? resolveCost<Req>(options.cost, 'cost', routePolicy.capacity)
          : resolveCost<Req>(route.cost, 'config.rateLimit.cost', routePolicy.capacity)
      return bindRoute(options, routePolicy, bucketId, key, cost)
    },
  }
}

function bindRoute<Req>(
  options: ResolvedLimiterOptions<Req>,
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
        return { result: undefined, headers: {}, deny: missingApiKey(header) }
      }
      const tokens = typeof cost === 'number' ? cost : checkedCost(cost(request))
      const storeKey = bucketKey(options.prefix, clientId, bucketId)
      const reply = await options.store.check({ key: storeKey, capacity: policy.capacity, intervalNs: policy.intervalNs, cost: tokens })
      const result: RateLimitResult = {
        ...reply,
        allowed: reply.status === 'allowed',
        policy,
        limit: policy.capacity,
        cost: tokens,
        key: storeKey,
      }
      const deny =
        reply.status === 'allowed' ? undefined : reply.status === 'denied' ? quotaExceeded(result) : costExceedsCapacity(result)
      return { result, headers: rateLimitHeaders(result), deny }
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
      throw new SluiceError(ErrorCodes.INVALID_OPTION, `@sluice: the \`key\` function must return a non-empty string, got ${typeof id === 'string' ? '""' : typeof id}`)
    }
    return customClientId(id)
  }
  const apiKey = firstHeader(view.header(key.header))
  if (apiKey !== undefined) return apiKeyClientId(apiKey)
  return key.missing === 'reject' ? undefined : ipClientId(view.ip, ipv6Subnet)
}
