import { assertRedisClient } from './stores/clients/index.js'
import type { NanoClock, RedisStoreOptions } from './types.js'
import { assertKnownOptions, assertPlainObject, invalid, optionalWhole } from './validate.js'

/**
 * The stores' options, resolved and checked the way the limiter's are (options.ts): defaults in
 * one place, coded errors naming the option, unknown names refused. A store reads its options
 * through these before it touches anything, the user's Redis client least of all.
 */

export const STORE_DEFAULTS = Object.freeze({
  /** The time budget of one store call: the limiter's `timeoutMs`, and a RedisStore's own for direct calls. */
  timeoutMs: 100,
  redis: Object.freeze({ coalesce: true, maxBatch: 128, batchIntervalMs: 0, denyCacheKeys: 10_000 }),
  memory: Object.freeze({ maxKeys: 100_000 }),
})

// In-memory stores allocate as they fill, so this bounds growth, not start-up.
export const MAX_MEMORY_KEYS = 100_000_000
/** The longest time budget: past a minute a check is no longer an answer to its request. */
export const MAX_TIMEOUT_MS = 60_000
// A batch is one script run, which holds Redis up while it runs.
const MAX_BATCH = 10_000
const MAX_BATCH_INTERVAL_MS = 1_000
// The deny cache's LRU allocates its slots up front.
const MAX_DENY_CACHE_KEYS = 1_000_000

export const REDIS_STORE_OPTION_NAMES = ['coalesce', 'maxBatch', 'batchIntervalMs', 'denyCacheKeys', 'timeoutMs'] as const
export const MEMORY_STORE_OPTION_NAMES = ['maxKeys', 'clock'] as const

export type ResolvedRedisStoreOptions = Readonly<Required<RedisStoreOptions>>
export interface ResolvedMemoryStoreOptions {
  readonly maxKeys: number
  readonly clock: NanoClock | undefined
}

/** `new RedisStore(client, options)`'s arguments, checked, with every default filled in. */
export function resolveRedisStoreOptions(client: unknown, input: unknown = {}): ResolvedRedisStoreOptions {
  assertRedisClient(client, 'client')
  assertPlainObject(input, 'options')
  assertKnownOptions(input, REDIS_STORE_OPTION_NAMES)
  const d = STORE_DEFAULTS.redis
  const coalesce = input.coalesce ?? d.coalesce
  if (typeof coalesce !== 'boolean') throw invalid('coalesce', coalesce, 'expected a boolean')
  return Object.freeze({
    coalesce,
    maxBatch: optionalWhole(input.maxBatch, 'maxBatch', d.maxBatch, 1, MAX_BATCH),
    batchIntervalMs: optionalWhole(input.batchIntervalMs, 'batchIntervalMs', d.batchIntervalMs, 0, MAX_BATCH_INTERVAL_MS),
    denyCacheKeys: optionalWhole(input.denyCacheKeys, 'denyCacheKeys', d.denyCacheKeys, 0, MAX_DENY_CACHE_KEYS),
    timeoutMs: optionalWhole(input.timeoutMs, 'timeoutMs', STORE_DEFAULTS.timeoutMs, 1, MAX_TIMEOUT_MS),
  })
}

/** `new MemoryStore(options)`'s argument, checked, with every default filled in. */
export function resolveMemoryStoreOptions(input: unknown = {}): ResolvedMemoryStoreOptions {
  assertPlainObject(input, 'options')
  assertKnownOptions(input, MEMORY_STORE_OPTION_NAMES)
  if (input.clock !== undefined && typeof input.clock !== 'function') {
    throw invalid('clock', input.clock, 'expected a function () => nanoseconds')
  }
  return Object.freeze({
    maxKeys: optionalWhole(input.maxKeys, 'maxKeys', STORE_DEFAULTS.memory.maxKeys, 1, MAX_MEMORY_KEYS),
    clock: input.clock as NanoClock | undefined,
  })
}
