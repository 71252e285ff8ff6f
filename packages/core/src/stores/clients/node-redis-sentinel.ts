import type { NodeRedisClient, NodeRedisSentinel, StoreClient } from '../../types.js'
import { nodeRedisAdapter } from './node-redis.js'

/** Whether `value` is a node-redis Sentinel client (`createSentinel`): a client that leases its primary's connections. */
export function isNodeRedisSentinel(value: object): value is NodeRedisSentinel {
  const v = value as Partial<Record<keyof NodeRedisSentinel, unknown>>
  return typeof v.evalSha === 'function' && typeof v.getMasterNode === 'function' && typeof v.acquire === 'function'
}

/** How long after a failed probe of a primary that is down the next one goes. */
const PROBE_RETRY_MS = 250

/** How node-redis words an error of a primary connection it passes through (`passthroughClientErrorEvents`). */
const PRIMARY_ERROR = /^Master Client \(/

/**
 * Whether the Sentinel client's primary is down, as far as the client tells. node-redis keeps its
 * own `isReady` true through an outage (it is the Sentinel client's, not the primary
 * connection's), forwards no `ready` of the primary connection, and keeps that connection's
 * errors to itself unless the app made it with `passthroughClientErrorEvents: true`: then each is
 * an `error` whose message begins `Master Client (host:port)`. So, with that option: down from
 * such an error until a new primary is named (`MASTER_CHANGE`) or one probe (a TIME through the
 * Sentinel client, which waits for a primary it can reach) answers with no error heard meanwhile.
 * One probe at a time stands in for the checks, which are refused unsent meanwhile. Without the
 * option nothing is heard, and a check waits for its budget (or the breaker) as before.
 */
function primaryWatch(sentinel: NodeRedisSentinel, onBack: () => void): { readonly down: boolean } {
  let down = false
  let probing = false
  // Errors heard so far: a probe answered only counts if none came while it was out.
  let errors = 0
  const probe = (): void => {
    if (probing || !down || !sentinel.isOpen) return
    probing = true
    const before = errors
    sentinel.time().then(
      () => {
        probing = false
        if (errors !== before) return probe()
        // A new primary named meanwhile has cleared it already, and told the store.
        if (!down) return
        down = false
        onBack()
      },
      () => {
        probing = false
        setTimeout(probe, PROBE_RETRY_MS).unref()
      },
    )
  }
  sentinel.on('error', (error) => {
    if (!(error instanceof Error) || !PRIMARY_ERROR.test(error.message)) return
    errors++
    down = true
    probe()
  })
  // A new primary named: its connections are being made, and a command waits for them (within
  // its budget), so the store may send again; its own clock reading comes first (onReady).
  sentinel.on('topology-change', (event) => {
    if (event.type === 'MASTER_CHANGE') down = false
  })
  return {
    get down() {
      return down
    },
  }
}

/**
 * A node-redis Sentinel client (`redis` v5 `createSentinel`), connected by the app. It speaks as a
 * plain node-redis client does (`EVALSHA`, `EVAL` on `NOSCRIPT`, to the primary), but emits no
 * `ready` or `end`: a new primary is its `topology-change` of type `MASTER_CHANGE`, which is when
 * that node's clock must be read again (the primary is another server now). A primary that is
 * unreachable shows only as its connection's errors, and only when the app passes them through
 * (primaryWatch): `reconnecting` then, so checks are refused at once, as with ioredis, rather
 * than each waiting its whole budget.
 */
export function nodeRedisSentinelAdapter(sentinel: NodeRedisSentinel): StoreClient {
  const plain = nodeRedisAdapter(sentinel as unknown as NodeRedisClient)
  const readyListeners: (() => void)[] = []
  const primary = primaryWatch(sentinel, () => {
    for (const listener of readyListeners) listener()
  })
  return Object.freeze({
    ...plain,
    client: sentinel,
    status: () => (sentinel.isReady ? (primary.down ? 'reconnecting' : 'ready') : sentinel.isOpen ? 'reconnecting' : 'not connected'),
    onReady(listener: () => void) {
      readyListeners.push(listener)
      sentinel.on('topology-change', (event) => {
        if (event.type === 'MASTER_CHANGE') listener()
      })
    },
    // Closed by the app: `isOpen` turns false, which the status says.
    onEnd: () => {},
  } satisfies StoreClient)
}
