import type { CircuitBreakerOptions } from './circuit-breaker.js'
import { ErrorCodes, SluiceOptionError } from './errors.js'
import type { FailureMode } from './failover.js'
import type { SluiceObserver } from './observer.js'
import { type NamedPolicyOptions, type PolicyOptions, type PolicySource, type ResolvedPolicy, resolvePolicies } from './policies.js'
import { MemoryStore } from './stores/memory-store.js'
import { type RedisClient, RedisStore } from './stores/redis-store.js'
import type { Store } from './stores/store.js'
import { assertKnownOptions, assertPlainObject, invalid, optionalWhole, wholeNumber } from './validate.js'
import { processWarningLogger, type SluiceLogger } from './warn-throttle.js'

/** How a request becomes a client identity. */
export type KeyOption<Req> =
  /** The client IP as the framework resolves it under its trust-proxy setting. */
  | 'ip'
  /** An API key read from a request header; hashed before it reaches the store. */
  | {
      readonly header: string
      /** What to do when the header is missing or empty. @default 'ip' */
      readonly missing?: 'ip' | 'reject'
    }
  /** Your own id; a short id of a safe shape is kept, anything else is hashed. */
  | ((request: Req) => string | Promise<string>)

/** Tokens a request takes: a whole number ≥ 1, or a function of the request returning one. */
export type CostOption<Req> = number | ((request: Req) => number)

/** Options shared by every adapter, apart from the policies. */
export interface CommonLimiterOptions<Req> {
  /** An ioredis `Redis` or `Cluster` shared by all replicas. Omit to keep buckets in memory (one process). */
  readonly redis?: RedisClient
  /** A custom store; takes precedence over `redis`. */
  readonly store?: Store
  /** How requests are grouped into buckets. @default 'ip' */
  readonly key?: KeyOption<Req>
  /** Tokens per request. @default 1 */
  readonly cost?: CostOption<Req>
  /** Namespace of this limiter's Redis keys; no `{` or `}`. @default 'sluice:' */
  readonly prefix?: string
  /** IPv6 addresses are grouped by this prefix length (1–128). @default 64 */
  readonly ipv6Subnet?: number
  /** Most buckets an in-memory store keeps (the default store, and the local failure buckets). @default 100_000 */
  readonly memoryMaxKeys?: number
  /** Time budget of one store call, in ms; past it the request is answered by `failureMode`. @default 100 */
  readonly timeoutMs?: number
  /** What to answer while the store is failing or slow. @default 'local' */
  readonly failureMode?: FailureMode
  /** How many replicas share the store: local failure buckets get 1/replicas of capacity and rate. @default 1 */
  readonly replicas?: number
  /** When to stop calling a failing store, and how often to probe it. */
  readonly circuitBreaker?: CircuitBreakerOptions
  /**
   * Where degraded-mode and shadow warnings go (pino-compatible); adapters pass the framework's
   * logger. @default process warnings (`process.emitWarning`, code `SLUICE_WARNING`)
   */
  readonly logger?: SluiceLogger
  /** Hooks for metrics, e.g. `createMetrics(promClient)` from `@sluice/core/metrics` (Prometheus). */
  readonly observer?: SluiceObserver
}

/**
 * Options shared by every adapter: one policy (`capacity`, `refillPerSecond`, `name`) or
 * several (`policies`), checked all or nothing.
 */
export type LimiterOptions<Req> = CommonLimiterOptions<Req> & PolicySource

/**
 * A per-route override. Setting `capacity`, `refillPerSecond`, `name` or `policies` gives the
 * route buckets of its own; a `cost`- or `key`-only override draws from the limiter's buckets.
 */
export type RouteLimitOptions<Req> = {
  readonly key?: KeyOption<Req>
  readonly cost?: CostOption<Req>
} & (
  | (Partial<PolicyOptions> & { readonly policies?: never })
  | {
      readonly policies: readonly NamedPolicyOptions[]
      readonly capacity?: never
      readonly refillPerSecond?: never
      readonly name?: never
      readonly shadow?: never
    }
)

/** The resolved, frozen options; nothing downstream re-checks them. */
export interface ResolvedLimiterOptions<Req> {
  readonly store: Store
  /** One or more policies; a request is checked against all of them at once. */
  readonly policies: readonly ResolvedPolicy[]
  readonly key: KeyOption<Req>
  readonly cost: CostOption<Req>
  readonly prefix: string
  readonly ipv6Subnet: number
  readonly memoryMaxKeys: number
  readonly timeoutMs: number
  readonly failureMode: FailureMode
  readonly replicas: number
  readonly circuitBreaker: Required<CircuitBreakerOptions>
  readonly logger: SluiceLogger
  readonly observer: SluiceObserver | undefined
}

export const DEFAULTS = Object.freeze({
  key: 'ip' as const,
  cost: 1,
  prefix: 'sluice:',
  ipv6Subnet: 64,
  memoryMaxKeys: 100_000,
  timeoutMs: 100,
  failureMode: 'local' as const,
  replicas: 1,
  circuitBreaker: Object.freeze({ failureThreshold: 3, cooldownMs: 250, maxCooldownMs: 4_000 }),
})

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/
const MAX_COST = 2 ** 31

export const LIMITER_OPTION_NAMES = [
  'redis',
  'store',
  'capacity',
  'refillPerSecond',
  'name',
  'shadow',
  'policies',
  'key',
  'cost',
  'prefix',
  'ipv6Subnet',
  'memoryMaxKeys',
  'timeoutMs',
  'failureMode',
  'replicas',
  'circuitBreaker',
  'logger',
  'observer',
] as const
const FAILURE_MODES: readonly FailureMode[] = ['local', 'allow', 'deny']
const PREFIX = /^[^{}\s]{0,64}$/
export const ROUTE_OPTION_NAMES = ['capacity', 'refillPerSecond', 'name', 'shadow', 'policies', 'key', 'cost'] as const

export function resolveKey<Req>(value: unknown, option: string): KeyOption<Req> {
  if (value === undefined) return DEFAULTS.key
  if (value === 'ip' || typeof value === 'function') return value as KeyOption<Req>
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const spec = value as Record<string, unknown>
    assertKnownOptions(spec, ['header', 'missing'], `${option}.`)
    if (typeof spec.header !== 'string' || !HEADER_NAME.test(spec.header)) {
      throw invalid(`${option}.header`, spec.header, 'expected an HTTP header name')
    }
    const missing = spec.missing ?? 'ip'
    if (missing !== 'ip' && missing !== 'reject') {
      throw invalid(`${option}.missing`, missing, "expected 'ip' or 'reject'")
    }
    return Object.freeze({ header: spec.header.toLowerCase(), missing })
  }
  throw invalid(option, value, "expected 'ip', { header: '<name>' } or a function (request) => string")
}

export function resolveCost<Req>(value: unknown, option: string, policies: readonly ResolvedPolicy[]): CostOption<Req> {
  if (value === undefined) value = DEFAULTS.cost
  if (typeof value === 'function') return value as CostOption<Req>
  const cost = wholeNumber(value, option, 1, MAX_COST)
  const capacity = Math.min(...policies.map((p) => p.capacity))
  if (cost > capacity) {
    throw invalid(option, value, `cost can never exceed capacity (${capacity}): such requests could never succeed`)
  }
  return cost
}

/** Check a cost computed per request; a function returning nonsense is a server bug, not a free pass. */
export function checkedCost(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_COST) {
    throw new SluiceOptionError(
      ErrorCodes.INVALID_REQUEST_VALUE,
      'cost',
      value,
      `the cost function must return a whole number from 1 to ${MAX_COST}`,
    )
  }
  return value
}

function isRedisClient(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as { defineCommand?: unknown }).defineCommand === 'function'
}

function resolveStore(raw: Record<string, unknown>, memoryMaxKeys: number): Store {
  if (raw.store !== undefined) {
    if (raw.store === null || typeof (raw.store as Store).check !== 'function') {
      throw invalid('store', raw.store, 'expected an object with a check(request) method')
    }
    return raw.store as Store
  }
  if (raw.redis !== undefined) {
    if (!isRedisClient(raw.redis)) throw invalid('redis', raw.redis, 'expected an ioredis Redis or Cluster client')
    return new RedisStore(raw.redis as RedisClient)
  }
  return new MemoryStore({ maxKeys: memoryMaxKeys })
}

function resolveCircuitBreaker(value: unknown): Required<CircuitBreakerOptions> {
  if (value === undefined) return DEFAULTS.circuitBreaker
  assertPlainObject(value, 'circuitBreaker')
  assertKnownOptions(value, Object.keys(DEFAULTS.circuitBreaker), 'circuitBreaker.')
  const d = DEFAULTS.circuitBreaker
  return Object.freeze({
    failureThreshold: optionalWhole(value.failureThreshold, 'circuitBreaker.failureThreshold', d.failureThreshold, 1, 1_000_000),
    cooldownMs: optionalWhole(value.cooldownMs, 'circuitBreaker.cooldownMs', d.cooldownMs, 1, 3_600_000),
    maxCooldownMs: optionalWhole(value.maxCooldownMs, 'circuitBreaker.maxCooldownMs', d.maxCooldownMs, 1, 3_600_000),
  })
}

/**
 * Validate every limiter option once and return them resolved and frozen. `adapterOptions`
 * names options the adapter reads itself, so they are not reported as unknown.
 */
export function resolveLimiterOptions<Req>(input: unknown, adapterOptions: readonly string[] = []): ResolvedLimiterOptions<Req> {
  assertPlainObject(input, 'options')
  assertKnownOptions(input, [...LIMITER_OPTION_NAMES, ...adapterOptions])
  const policies = resolvePolicies(input, '')
  const prefix = input.prefix ?? DEFAULTS.prefix
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw invalid('prefix', prefix, 'expected at most 64 characters without braces or spaces')
  }
  const failureMode = input.failureMode ?? DEFAULTS.failureMode
  if (!FAILURE_MODES.includes(failureMode as FailureMode)) {
    throw invalid('failureMode', failureMode, `expected one of ${FAILURE_MODES.map((m) => `'${m}'`).join(', ')}`)
  }
  const logger = input.logger
  if (logger !== undefined && typeof (logger as SluiceLogger | null)?.warn !== 'function') {
    throw invalid('logger', logger, 'expected an object with a warn(object, message) method')
  }
  const observer = input.observer
  if (observer !== undefined && (observer === null || typeof observer !== 'object')) {
    throw invalid('observer', observer, 'expected an object with optional decision(event) and storeCall(event) methods')
  }
  const memoryMaxKeys = optionalWhole(input.memoryMaxKeys, 'memoryMaxKeys', DEFAULTS.memoryMaxKeys, 1, 2 ** 31)
  return Object.freeze({
    store: resolveStore(input, memoryMaxKeys),
    policies,
    key: resolveKey<Req>(input.key, 'key'),
    cost: resolveCost<Req>(input.cost, 'cost', policies),
    prefix,
    ipv6Subnet: optionalWhole(input.ipv6Subnet, 'ipv6Subnet', DEFAULTS.ipv6Subnet, 1, 128),
    memoryMaxKeys,
    timeoutMs: optionalWhole(input.timeoutMs, 'timeoutMs', DEFAULTS.timeoutMs, 1, 60_000),
    failureMode: failureMode as FailureMode,
    replicas: optionalWhole(input.replicas, 'replicas', DEFAULTS.replicas, 1, 10_000),
    circuitBreaker: resolveCircuitBreaker(input.circuitBreaker),
    logger: (logger as SluiceLogger | undefined) ?? processWarningLogger,
    observer: observer as SluiceObserver | undefined,
  })
}
