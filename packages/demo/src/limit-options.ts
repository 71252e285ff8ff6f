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
    // The demo issues no keys: any key a load generator makes up is one client, on purpose (it shows
    // per-key buckets). A real app passes the check against the keys it issued.
    key: config.keyMode === 'api-key' ? ({ header: API_KEY_HEADER, verify: () => true } as const) : ('ip' as const),
    prefix: config.prefix,
    replicas: config.replicas,
    timeoutMs: config.timeoutMs,
    observer,
  }
}
