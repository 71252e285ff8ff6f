import { assertKnownPolicyOptions } from './peer-options.js'
import { intervalOf, type Rate, resolveRate, windowOf } from './refill.js'
import { MAX_WINDOW_NS } from './scripts/token-bucket.js'
import type { ResolvedPolicy } from './types.js'
import { assertPlainObject, invalid, wholeNumber } from './validate.js'

export const DEFAULT_POLICY_NAME = 'default'
const POLICY_NAME = /^[A-Za-z0-9_.-]{1,64}$/
/** The fields of one policy; setting any of them on a route gives it buckets of its own. */
export const POLICY_KEYS: readonly string[] = ['name', 'capacity', 'refill', 'refillPerSecond', 'shadow']
export const MAX_POLICIES = 16
const MAX_TIERS = 64

// Each resolved policy's rate as it was written, so a route override that keeps it is not
// converted a second time (see `Rate`).
const rates = new WeakMap<ResolvedPolicy, Rate>()

export function resolvePolicy(
  input: { capacity?: unknown; refill?: unknown; refillPerSecond?: unknown; name?: unknown; shadow?: unknown },
  path = '',
  inherited?: Rate,
): ResolvedPolicy {
  const capacity = wholeNumber(input.capacity, `${path}capacity`, 1, 2 ** 32)
  const rate = resolveRate(input, path, inherited)
  const name = input.name ?? DEFAULT_POLICY_NAME
  if (typeof name !== 'string' || !POLICY_NAME.test(name)) {
    throw invalid(`${path}name`, name, 'expected 1–64 characters of A-Z a-z 0-9 _ . -')
  }
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
 * A route override's policies: its own `policies`, or one inline policy whose missing fields
 * come from the limiter's first policy (its rate as that policy was written, not converted again).
 */
export function resolveRoutePolicies(config: Record<string, unknown>, first: ResolvedPolicy): readonly ResolvedPolicy[] {
  const path = 'config.rateLimit.'
  if (config.policies !== undefined) return resolvePolicies(config, path)
  const inline = {
    capacity: config.capacity ?? first.capacity,
    refill: config.refill,
    refillPerSecond: config.refillPerSecond,
    name: config.name ?? first.name,
    shadow: config.shadow,
  }
  return Object.freeze([resolvePolicy(inline, path, rates.get(first) ?? { tokens: first.refillPerSecond, seconds: 1 })])
}

/** The policies of a limiter or a route: `policies: [...]`, or one policy given inline. */
export function resolvePolicies(input: Record<string, unknown>, path: string): readonly ResolvedPolicy[] {
  if (input.policies === undefined) return Object.freeze([resolvePolicy(input, path)])
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
      const policy = resolvePolicy(item, at)
      if (seen.has(policy.name)) throw invalid(`${at}name`, policy.name, 'policy names must be unique')
      seen.add(policy.name)
      return policy
    }),
  )
}

/** Each tier's policies, from `tiers` (see `TierSource`); undefined when the limiter has none. */
export function resolveTiers(input: Record<string, unknown>): ReadonlyMap<string, readonly ResolvedPolicy[]> | undefined {
  if (input.tiers === undefined && input.tier === undefined) return undefined
  for (const other of [...POLICY_KEYS, 'policies']) {
    if (input[other] !== undefined) throw invalid(other, input[other], 'expected either `tiers` or policies, not both')
  }
  if (typeof input.tier !== 'function') throw invalid('tier', input.tier, 'expected a function (request) => tier name, with `tiers`')
  assertPlainObject(input.tiers, 'tiers')
  const entries = Object.entries(input.tiers)
  if (entries.length === 0 || entries.length > MAX_TIERS) throw invalid('tiers', input.tiers, `expected 1 to ${MAX_TIERS} tiers`)
  const tiers = new Map<string, readonly ResolvedPolicy[]>()
  for (const [name, value] of entries) {
    if (!POLICY_NAME.test(name)) throw invalid(`tiers.${name}`, name, 'expected a tier name of 1–64 characters of A-Z a-z 0-9 _ . -')
    if (Array.isArray(value)) {
      tiers.set(name, resolvePolicies({ policies: value }, `tiers.${name}.`))
    } else {
      assertPlainObject(value, `tiers.${name}`)
      assertKnownPolicyOptions(value, POLICY_KEYS, `tiers.${name}.`)
      tiers.set(name, Object.freeze([resolvePolicy({ ...value, name: value.name ?? name }, `tiers.${name}.`)]))
    }
  }
  return tiers
}
