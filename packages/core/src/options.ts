import { resolveAllowList } from './allow-list.js'
import { processWarningLogger } from './logger.js'
import { assertKnownPolicyOptions } from './peer-options.js'
import { isConcurrency, resolvePolicies, resolveTiers } from './policies.js'
import { badValue } from './request-functions.js'
import { assertCapabilities, doorOf } from './store-door.js'
import { MAX_MEMORY_KEYS, MAX_TIMEOUT_MS, STORE_DEFAULTS } from './store-options.js'
import { assertRedisClient } from './stores/clients/index.js'
import { MemoryStore } from './stores/memory-store.js'
import { RedisStore } from './stores/redis-store.js'
import type {
  AnyResolvedPolicy,
  ApiKeyVerifier,
  CircuitBreakerOptions,
  CostOption,
  DenyBody,
  FailureMode,
  HeaderFamilies,
  KeyOption,
  ResolvedLimiterOptions,
  ResolvedOptions,
  ResolvedPolicy,
  SettleOption,
  SkipOption,
  SluiceLogger,
  SluiceObserver,
  Store,
  StoreDoor,
} from './types.js'
import { assertKnownOptions, assertPlainObject, invalid, optionalWhole, wholeNumber } from './validate.js'

export const DEFAULTS = Object.freeze({
  key: 'ip' as const,
  cost: 1,
  prefix: 'sluice:',
  ipv6Subnet: 64,
  memoryMaxKeys: STORE_DEFAULTS.memory.maxKeys,
  timeoutMs: STORE_DEFAULTS.timeoutMs,
  failureMode: 'local' as const,
  headers: 'all' as const,
  replicas: 1,
  circuitBreaker: Object.freeze({ failureThreshold: 3, cooldownMs: 250, maxCooldownMs: 4_000 }),
})

const OBSERVER_HOOKS = ['decision', 'storeCall'] as const
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/
const MAX_COST = 2 ** 31

export const LIMITER_OPTION_NAMES = [
  'redis',
  'store',
  'capacity',
  'refill',
  'refillPerSecond',
  'name',
  'shadow',
  'concurrency',
  'leaseMs',
  'policies',
  'tiers',
  'tier',
  'key',
  'cost',
  'skip',
  'settle',
  'global',
  'allowList',
  'headers',
  'denyBody',
  'onDeny',
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
function resolveOnDeny(value: unknown): 'send' | 'error' {
  if (value === undefined) return 'send'
  if (value !== 'send' && value !== 'error') {
    throw invalid('onDeny', value, "expected 'send' (Sluice answers) or 'error' (the app's error handler does)")
  }
  return value
}

function resolveGlobal(value: unknown): boolean {
  if (value === undefined) return true
  if (typeof value !== 'boolean') throw invalid('global', value, 'expected true (limit every request) or false (only routes that ask)')
  return value
}

export const ROUTE_OPTION_NAMES = [
  'capacity',
  'refill',
  'refillPerSecond',
  'name',
  'shadow',
  'concurrency',
  'leaseMs',
  'policies',
  'key',
  'cost',
  'skip',
  'settle',
] as const

/** What a `settle` option must be, in its error. */
export const SETTLE_SHAPE = '(request, reply) => number | undefined | Promise<number | undefined>'
const HEADER_FAMILIES: readonly HeaderFamilies[] = ['all', 'ietf', 'legacy', 'none']

/** An optional function option: undefined, or a function. */
export function resolveFunction<F>(value: unknown, option: string, shape: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw invalid(option, value, `expected a function ${shape}`)
  return value as F | undefined
}

function resolveHeaderFamilies(value: unknown): HeaderFamilies {
  if (value === undefined) return DEFAULTS.headers
  if (!HEADER_FAMILIES.includes(value as HeaderFamilies)) {
    throw invalid('headers', value, `expected one of ${HEADER_FAMILIES.map((f) => `'${f}'`).join(', ')}`)
  }
  return value as HeaderFamilies
}

export function resolveKey<Req>(value: unknown, option: string): KeyOption<Req> {
  if (value === undefined) return DEFAULTS.key
  if (value === 'ip' || typeof value === 'function') return value as KeyOption<Req>
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const spec = value as Record<string, unknown>
    assertKnownOptions(spec, ['header', 'missing', 'verify'], `${option}.`)
    if (typeof spec.header !== 'string' || !HEADER_NAME.test(spec.header)) {
      throw invalid(`${option}.header`, spec.header, 'expected an HTTP header name')
    }
    const missing = spec.missing ?? 'ip'
    if (missing !== 'ip' && missing !== 'reject') {
      throw invalid(`${option}.missing`, missing, "expected 'ip' or 'reject'")
    }
    if (spec.verify !== undefined && typeof spec.verify !== 'function') {
      throw invalid(`${option}.verify`, spec.verify, 'expected a function (apiKey, request) => boolean | Promise<boolean>')
    }
    return Object.freeze({ header: spec.header.toLowerCase(), missing, verify: spec.verify as ApiKeyVerifier<Req> | undefined })
  }
  throw invalid(option, value, "expected 'ip', { header: '<name>' } or a function (request) => string")
}

export function resolveCost<Req>(value: unknown, option: string, policies: readonly AnyResolvedPolicy[]): CostOption<Req> {
  if (value === undefined) value = DEFAULTS.cost
  if (typeof value === 'function') return value as CostOption<Req>
  const cost = wholeNumber(value, option, 1, MAX_COST)
  // Shadow policies never deny, so only the enforcing ones bound what a request may cost; an
  // in-flight limit takes one slot whatever the cost, so it bounds nothing.
  const capacity = Math.min(...policies.filter((p) => !p.shadow && !isConcurrency(p)).map((p) => (p as ResolvedPolicy).capacity))
  if (cost > capacity) {
    throw invalid(option, value, `cost can never exceed capacity (${capacity}): such requests could never succeed`)
  }
  return cost
}

/** Check a cost computed per request; a function returning nonsense is a server bug, not a free pass. */
export function checkedCost(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_COST) {
    throw badValue('cost', `a whole number from 1 to ${MAX_COST}`, value)
  }
  return value
}

/**
 * The store, built last (nothing touches the user's client until every other option is valid),
 * and its door: the one place that tells a MemoryStore, a RedisStore and a custom store apart.
 */
function resolveStore(raw: Record<string, unknown>, memoryMaxKeys: number, leases: boolean): StoreDoor {
  if (raw.store !== undefined) {
    if (raw.store === null || typeof (raw.store as Store).check !== 'function') {
      throw invalid('store', raw.store, 'expected an object with a check(request) method')
    }
    const door = doorOf(raw.store as Store)
    // An in-flight limit needs leases; settle (issue 21) will need more.
    assertCapabilities(door, leases ? ['leases'] : [], 'store')
    return door
  }
  if (raw.redis !== undefined) {
    assertRedisClient(raw.redis, 'redis')
    return doorOf(new RedisStore(raw.redis))
  }
  return doorOf(new MemoryStore({ maxKeys: memoryMaxKeys }))
}

function resolveCircuitBreaker(value: unknown): Required<CircuitBreakerOptions> {
  if (value === undefined) return DEFAULTS.circuitBreaker
  assertPlainObject(value, 'circuitBreaker')
  assertKnownOptions(value, Object.keys(DEFAULTS.circuitBreaker), 'circuitBreaker.')
  const d = DEFAULTS.circuitBreaker
  const cooldownMs = optionalWhole(value.cooldownMs, 'circuitBreaker.cooldownMs', d.cooldownMs, 1, 3_600_000)
  // An unset ceiling follows a longer first cooldown rather than contradicting it.
  const maxCooldownMs = optionalWhole(
    value.maxCooldownMs,
    'circuitBreaker.maxCooldownMs',
    Math.max(d.maxCooldownMs, cooldownMs),
    1,
    3_600_000,
  )
  if (cooldownMs > maxCooldownMs) {
    throw invalid('circuitBreaker.cooldownMs', cooldownMs, `expected at most circuitBreaker.maxCooldownMs (${maxCooldownMs})`)
  }
  return Object.freeze({
    failureThreshold: optionalWhole(value.failureThreshold, 'circuitBreaker.failureThreshold', d.failureThreshold, 1, 1_000_000),
    cooldownMs,
    maxCooldownMs,
  })
}

/**
 * Validate every limiter option once and return them resolved and frozen. `adapterOptions`
 * names options the adapter reads itself, so they are not reported as unknown; `fallbackLogger`
 * is where warnings go when no `logger` is given.
 */
export function resolveLimiterOptions<Req>(
  input: unknown,
  adapterOptions: readonly string[] = [],
  fallbackLogger: SluiceLogger = processWarningLogger,
): ResolvedOptions<Req> {
  assertPlainObject(input, 'options')
  assertKnownPolicyOptions(input, [...LIMITER_OPTION_NAMES, ...adapterOptions])
  const tiers = resolveTiers(input)
  const policies = tiers === undefined ? resolvePolicies(input, '') : tiers.values().next().value!
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
  if (observer !== undefined) {
    assertPlainObject(observer, 'observer')
    for (const hook of OBSERVER_HOOKS) {
      if (observer[hook] !== undefined && typeof observer[hook] !== 'function') {
        throw invalid(`observer.${hook}`, observer[hook], 'expected a function (event) => void')
      }
    }
  }
  const memoryMaxKeys = optionalWhole(input.memoryMaxKeys, 'memoryMaxKeys', DEFAULTS.memoryMaxKeys, 1, MAX_MEMORY_KEYS)
  const resolved = {
    policies,
    tiers,
    tier: input.tier as ResolvedLimiterOptions<Req>['tier'],
    key: resolveKey<Req>(input.key, 'key'),
    // A static cost must fit every tier, since any request may be on any tier.
    cost: resolveCost<Req>(input.cost, 'cost', tiers === undefined ? policies : [...tiers.values()].flat()),
    skip: resolveFunction<SkipOption<Req>>(input.skip, 'skip', '(request) => boolean | Promise<boolean>'),
    settle: resolveFunction<SettleOption<Req>>(input.settle, 'settle', SETTLE_SHAPE),
    global: resolveGlobal(input.global),
    allowList: resolveAllowList<Req>(input.allowList),
    headers: resolveHeaderFamilies(input.headers),
    denyBody: resolveFunction<DenyBody<Req>>(input.denyBody, 'denyBody', '(result, request) => body'),
    onDeny: resolveOnDeny(input.onDeny),
    prefix,
    ipv6Subnet: optionalWhole(input.ipv6Subnet, 'ipv6Subnet', DEFAULTS.ipv6Subnet, 1, 128),
    memoryMaxKeys,
    timeoutMs: optionalWhole(input.timeoutMs, 'timeoutMs', DEFAULTS.timeoutMs, 1, MAX_TIMEOUT_MS),
    failureMode: failureMode as FailureMode,
    replicas: optionalWhole(input.replicas, 'replicas', DEFAULTS.replicas, 1, 10_000),
    circuitBreaker: resolveCircuitBreaker(input.circuitBreaker),
    logger: (logger as SluiceLogger | undefined) ?? fallbackLogger,
    observer: observer as SluiceObserver | undefined,
  }
  // Last, once every option above has been checked.
  const every = tiers === undefined ? policies : [...tiers.values()].flat()
  const door = resolveStore(input, memoryMaxKeys, every.some(isConcurrency))
  if (resolved.settle !== undefined) assertCapabilities(door, ['settles'], 'settle')
  return Object.freeze({ ...resolved, store: door.store, door })
}
