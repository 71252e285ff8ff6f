import { assertKnownPolicyOptions } from './peer-options.js'
import { intervalOf, type Rate, resolveRate, windowOf } from './refill.js'
import { MAX_WINDOW_NS } from './scripts/token-bucket.js'
import type { AnyResolvedPolicy, ResolvedConcurrencyPolicy, ResolvedPolicy } from './types.js'
import { assertPlainObject, invalid, wholeNumber } from './validate.js'

export const DEFAULT_POLICY_NAME = 'default'
const POLICY_NAME = /^[A-Za-z0-9_.-]{1,64}$/
/** The fields of one policy; setting any of them on a route gives it buckets of its own. */
export const POLICY_KEYS: readonly string[] = ['name', 'capacity', 'refill', 'refillPerSecond', 'shadow', 'concurrency', 'leaseMs']
/** The fields of a token bucket, which an in-flight limit does not have. */
const BUCKET_KEYS: readonly string[] = ['capacity', 'refill', 'refillPerSecond', 'shadow']
export const MAX_POLICIES = 16
export const DEFAULT_LEASE_MS = 30_000
/** The shortest lease: renewed every third of it, a shorter one would be renewed faster than a busy Redis answers. */
export const MIN_LEASE_MS = 1_000
const MAX_LEASE_MS = 86_400_000
const MAX_CONCURRENCY = 2 ** 31

/** Whether a resolved policy is an in-flight limit. */
export function isConcurrency(policy: AnyResolvedPolicy): policy is ResolvedConcurrencyPolicy {
  return policy.concurrency !== undefined
}

type PolicyInput = {
  capacity?: unknown
  refill?: unknown
  refillPerSecond?: unknown
  name?: unknown
  shadow?: unknown
  concurrency?: unknown
  leaseMs?: unknown
}

function resolveName(value: unknown, path: string): string {
  const name = value ?? DEFAULT_POLICY_NAME
  if (typeof name !== 'string' || !POLICY_NAME.test(name)) {
    throw invalid(`${path}name`, name, 'expected 1–64 characters of A-Z a-z 0-9 _ . -')
  }
  return name
}

/**
 * An in-flight limit (`concurrency`, `leaseMs`, a name): no bucket field beside it, since a
 * slot is not a token.
 */
export function resolveConcurrencyPolicy(input: PolicyInput, path = ''): ResolvedConcurrencyPolicy {
  for (const field of BUCKET_KEYS) {
    const value = (input as Record<string, unknown>)[field]
    if (value !== undefined) {
      throw invalid(`${path}${field}`, value, `expected either \`${path}concurrency\` (an in-flight limit) or a token bucket, not both`)
    }
  }
  const concurrency = wholeNumber(input.concurrency, `${path}concurrency`, 1, MAX_CONCURRENCY)
  const leaseMs = input.leaseMs === undefined ? DEFAULT_LEASE_MS : wholeNumber(input.leaseMs, `${path}leaseMs`, MIN_LEASE_MS, MAX_LEASE_MS)
  if (input.name === undefined) throw invalid(`${path}name`, undefined, 'an in-flight limit (`concurrency`) needs a name')
  return Object.freeze({ name: resolveName(input.name, path), concurrency, leaseMs, shadow: false as const })
}

/** A token bucket or an in-flight limit, told apart by `concurrency`. */
export function resolveAnyPolicy(input: PolicyInput, path = ''): AnyResolvedPolicy {
  return input.concurrency !== undefined ? resolveConcurrencyPolicy(input, path) : resolvePolicy(input, path)
}
const MAX_TIERS = 64

// Each resolved policy's rate as it was written, so a route override that keeps it is not
// converted a second time (see `Rate`).
const rates = new WeakMap<ResolvedPolicy, Rate>()

export function resolvePolicy(input: PolicyInput, path = '', inherited?: Rate): ResolvedPolicy {
  if (input.leaseMs !== undefined) {
    throw invalid(`${path}leaseMs`, input.leaseMs, `expected \`${path}leaseMs\` only beside \`${path}concurrency\` (an in-flight limit)`)
  }
  const capacity = wholeNumber(input.capacity, `${path}capacity`, 1, 2 ** 32)
  const rate = resolveRate(input, path, inherited)
  const name = resolveName(input.name, path)
  const shadow = input.shadow ?? false
  if (typeof shadow !== 'boolean') throw invalid(`${path}shadow`, shadow, 'expected true or false')
  const intervalNs = intervalOf(rate)
  // Exclusive: the script reads a debt of half its clock's range or more as an arrival time long
  // past, so an empty bucket of exactly that window would read as full.
  if (capacity * intervalNs >= MAX_WINDOW_NS) {
    throw invalid(
      `${path}capacity`,
      capacity,
      `capacity / refillPerSecond must be under ${MAX_WINDOW_NS / 1e9} s (about 24 days) so a bucket, and a debt of up to its capacity, refills within the script's clock range`,
    )
  }
  const policy: ResolvedPolicy = Object.freeze({
    name,
    capacity,
    refillPerSecond: rate.tokens / rate.seconds,
    intervalNs,
    windowSeconds: windowOf(rate, capacity),
    shadow,
  })
  rates.set(policy, rate)
  return policy
}

/**
 * A route override's policies: its own `policies`, an inline in-flight limit, or one inline
 * token bucket whose missing fields come from the limiter's first token-bucket policy (its rate
 * as that policy was written, not converted again). An in-flight limit lends no bucket field: a
 * limiter with none leaves a partial bucket override to name its own capacity and rate.
 */
export function resolveRoutePolicies(config: Record<string, unknown>, own: readonly AnyResolvedPolicy[]): readonly AnyResolvedPolicy[] {
  const path = 'config.rateLimit.'
  if (config.policies !== undefined) return resolvePolicies(config, path)
  if (config.concurrency !== undefined) return Object.freeze([resolveConcurrencyPolicy(config, path)])
  const first = own.find((p): p is ResolvedPolicy => !isConcurrency(p))
  const inline = {
    capacity: config.capacity ?? first?.capacity,
    refill: config.refill,
    refillPerSecond: config.refillPerSecond,
    name: config.name ?? first?.name,
    shadow: config.shadow,
    leaseMs: config.leaseMs,
  }
  const inherited = first === undefined ? undefined : (rates.get(first) ?? { tokens: first.refillPerSecond, seconds: 1 })
  return Object.freeze([resolvePolicy(inline, path, inherited)])
}

/** The policies of a limiter or a route: `policies: [...]`, or one policy given inline. */
export function resolvePolicies(input: Record<string, unknown>, path: string): readonly AnyResolvedPolicy[] {
  if (input.policies === undefined) return Object.freeze([resolveAnyPolicy(input, path)])
  for (const inline of POLICY_KEYS) {
    if (input[inline] !== undefined) {
      throw invalid(`${path}${inline}`, input[inline], 'expected either `policies` or one inline policy, not both')
    }
  }
  const list = input.policies
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_POLICIES) {
    throw invalid(`${path}policies`, list, `expected an array of 1 to ${MAX_POLICIES} policies`)
  }
  const seen = new Set<string>()
  return Object.freeze(
    list.map((item: unknown, i) => {
      const at = `${path}policies[${i}].`
      assertPlainObject(item, `${path}policies[${i}]`)
      assertKnownPolicyOptions(item, POLICY_KEYS, at)
      if (item.name === undefined) throw invalid(`${at}name`, undefined, 'each of several policies needs a name')
      const policy = resolveAnyPolicy(item, at)
      if (seen.has(policy.name)) throw invalid(`${at}name`, policy.name, 'policy names must be unique')
      seen.add(policy.name)
      return policy
    }),
  )
}

/** Each tier's policies, from `tiers` (see `TierSource`); undefined when the limiter has none. */
export function resolveTiers(input: Record<string, unknown>): ReadonlyMap<string, readonly AnyResolvedPolicy[]> | undefined {
  if (input.tiers === undefined && input.tier === undefined) return undefined
  for (const other of [...POLICY_KEYS, 'policies']) {
    if (input[other] !== undefined) throw invalid(other, input[other], 'expected either `tiers` or policies, not both')
  }
  if (typeof input.tier !== 'function') throw invalid('tier', input.tier, 'expected a function (request) => tier name, with `tiers`')
  assertPlainObject(input.tiers, 'tiers')
  const entries = Object.entries(input.tiers)
  if (entries.length === 0 || entries.length > MAX_TIERS) throw invalid('tiers', input.tiers, `expected 1 to ${MAX_TIERS} tiers`)
  const tiers = new Map<string, readonly AnyResolvedPolicy[]>()
  for (const [name, value] of entries) {
    if (!POLICY_NAME.test(name)) throw invalid(`tiers.${name}`, name, 'expected a tier name of 1–64 characters of A-Z a-z 0-9 _ . -')
    if (Array.isArray(value)) {
      tiers.set(name, resolvePolicies({ policies: value }, `tiers.${name}.`))
    } else {
      assertPlainObject(value, `tiers.${name}`)
      assertKnownPolicyOptions(value, POLICY_KEYS, `tiers.${name}.`)
      tiers.set(name, Object.freeze([resolveAnyPolicy({ ...value, name: value.name ?? name }, `tiers.${name}.`)]))
    }
  }
  return tiers
}
