import type { NodeRedisClient, NodeRedisSentinel, StoreClient } from '../../types.js'
import { nodeRedisAdapter } from './node-redis.js'

/** Whether `value` is a node-redis Sentinel client (`createSentinel`): a client that leases its primary's connections. */
export function isNodeRedisSentinel(value: object): value is NodeRedisSentinel {
  const v = value as Partial<Record<keyof NodeRedisSentinel, unknown>>
  return typeof v.evalSha === 'function' && typeof v.getMasterNode === 'function' && typeof v.acquire === 'function'
}

/**
 * A node-redis Sentinel client (`redis` v5 `createSentinel`), connected by the app. It speaks as a
 * plain node-redis client does (`EVALSHA`, `EVAL` on `NOSCRIPT`, to the primary), but emits no
 * `ready` or `end`: a new primary is its `topology-change` of type `MASTER_CHANGE`, which is when
 * that node's clock must be read again (the primary is another server now).
 */
export function nodeRedisSentinelAdapter(sentinel: NodeRedisSentinel): StoreClient {
  const plain = nodeRedisAdapter(sentinel as unknown as NodeRedisClient)
  return Object.freeze({
    ...plain,
    client: sentinel,
    status: () => (sentinel.isReady ? 'ready' : sentinel.isOpen ? 'reconnecting' : 'not connected'),
    onReady(listener: () => void) {
      sentinel.on('topology-change', (event) => {
        if (event.type === 'MASTER_CHANGE') listener()
      })
    },
    // Closed by the app: `isOpen` turns false, which the status says.
    onEnd: () => {},
  } satisfies StoreClient)
}
