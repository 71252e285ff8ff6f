import { MAX_WINDOW_NS } from './scripts/token-bucket.js'
import { ErrorCodes, SluiceOptionError } from './errors.js'
import type { RedisClient } from './stores/redis-store.js'
import type { Store } from './stores/store.js'

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

/** One token bucket. */
export interface PolicyOptions {
  /** Largest burst, in whole tokens (≥ 1). Required. */
  readonly capacity: number
  /** Sustained rate in tokens per second (> 0, may be fractional such as 0.5). Required. */
  readonly refillPerSecond: number
  /**
   * The policy's name in the `RateLimit` / `RateLimit-Policy` headers and in its Redis keys:
   * 1–64 characters of `A-Z a-z 0-9 _ . -`. @default 'default'
   */
  readonly name?: string
}

/** Options shared by every adapter. */
export interface LimiterOptions<Req> extends PolicyOptions {
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
  /** Most buckets the in-memory store keeps (when `redis` is omitted). @default 100_000 */
  readonly memoryMaxKeys?: number
}

/** A per-route override. Setting `capacity`, `refillPerSecond` or `name` gives the route a bucket of its own. */
export interface RouteLimitOptions<Req> {
  readonly capacity?: number
  readonly refillPerSecond?: number
  readonly name?: string
  readonly key?: KeyOption<Req>
  readonly cost?: CostOption<Req>
}

/** A policy with every field resolved. */
export interface ResolvedPolicy {
  readonly name: string
  readonly capacity: number
  readonly refillPerSecond: number
  /** Nanoseconds per token, rounded once to a whole number. */
  readonly intervalNs: number
  /** Seconds a full bucket takes to refill from empty, rounded up: the draft's `w`. */
  readonly windowSeconds: number
}

export const DEFAULTS = Object.freeze({
  name: 'default',
  key: 'ip' as const,
  cost: 1,
  prefix: 'sluice:',
  ipv6Subnet: 64,
  memoryMaxKeys: 100_000,
})

const POLICY_NAME = /^[A-Za-z0-9_.-]{1,64}$/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/
const MAX_COST = 2 ** 31

export const LIMITER_OPTION_NAMES = [
  'redis', 'store', 'capacity', 'refillPerSecond', 'name', 'key', 'cost', 'prefix', 'ipv6Subnet', 'memoryMaxKeys',
] as const
export const ROUTE_OPTION_NAMES = ['capacity', 'refillPerSecond', 'name', 'key', 'cost'] as const

function invalid(option: string, value: unknown, expected: string): SluiceOptionError {
  return new SluiceOptionError(ErrorCodes.INVALID_OPTION, option, value, expected)
}

export function assertPlainObject(value: unknown, option: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(option, value, 'expected an object')
  }
}

/** Reject option names nobody reads: a typo must not silently fall back to a default. */
export function assertKnownOptions(input: Record<string, unknown>, known: readonly string[], path = ''): void {
  for (const name of Object.keys(input)) {
    if (!known.includes(name)) {
      throw new SluiceOptionError(ErrorCodes.UNKNOWN_OPTION, `${path}${name}`, input[name], `unknown option (known: ${known.join(', ')})`)
    }
  }
}

function wholeNumber(value: unknown, option: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(option, value, `expected a whole number from ${min} to ${max}`)
  }
  return value
}

export function resolvePolicy(input: { capacity?: unknown; refillPerSecond?: unknown; name?: unknown }, path = ''): ResolvedPolicy {
  const capacity = wholeNumber(input.capacity, `${path}capacity`, 1, 2 ** 32)
  const rate = input.refillPerSecond
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 1e9) {
    throw invalid(`${path}refillPerSecond`, rate, 'expected a number of tokens per second, > 0 and ≤ 1e9')
  }
  const name = input.name ?? DEFAULTS.name
  if (typeof name !== 'string' || !POLICY_NAME.test(name)) {
    throw invalid(`${path}name`, name, 'expected 1–64 characters of A-Z a-z 0-9 _ . -')
  }
  const intervalNs = Math.max(1, Math.round(1e9 / rate))
  if (capacity * intervalNs > MAX_WINDOW_NS) {
    throw invalid(`${path}capacity`, capacity, `capacity / refillPerSecond must be at most ${MAX_WINDOW_NS / 1e9} s (about 48 days) so a bucket refills within the script's clock range`)
  }
  return Object.freeze({
    name,
    capacity,
    refillPerSecond: rate,
    intervalNs,
    windowSeconds: Math.ceil(capacity / rate),
  })
}

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

export function resolveCost<Req>(value: unknown, option: string, capacity: number): CostOption<Req> {
  if (value === undefined) return DEFAULTS.cost
  if (typeof value === 'function') return value as CostOption<Req>
  const cost = wholeNumber(value, option, 1, MAX_COST)
  if (cost > capacity) {
    throw invalid(option, value, `cost can never exceed capacity (${capacity}): such requests could never succeed`)
  }
  return cost
}

/** Check a cost computed per request; a function returning nonsense is a server bug, not a free pass. */
export function checkedCost(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_COST) {
    throw invalid('cost', value, `the cost function must return a whole number from 1 to ${MAX_COST}`)
  }
  return value
}
