import type { SluiceObserver } from '@sluice/core'
import { API_KEY_HEADER } from '@sluice/loadtest/policy'
import type { Cluster, Redis } from 'ioredis'
import type { DemoConfig } from './config.js'

/**
 * The limiter options every replica uses, whatever its framework: a mixed cluster limits as one
 * only if its replicas agree on the policy, the key and the prefix.
 */
export function limitOptions(config: DemoConfig, redis: Redis | Cluster | undefined, observer: SluiceObserver) {
  return {
    redis,
    capacity: config.capacity,
    refillPerSecond: config.refillPerSecond,
    key: config.keyMode === 'api-key' ? ({ header: API_KEY_HEADER } as const) : ('ip' as const),
    prefix: config.prefix,
    replicas: config.replicas,
    timeoutMs: config.timeoutMs,
    observer,
  }
}
