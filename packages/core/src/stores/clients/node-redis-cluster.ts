import type { NodeRedisCluster, NodeRedisClusterNode, StoreClient } from '../../types.js'
import { scriptRunner } from './node-redis-script.js'
import { SINGLE_NODE } from './single-node.js'

/** Whether `value` is a node-redis cluster (`createCluster`): masters and slots, and no `isReady`. */
export function isNodeRedisCluster(value: object): value is NodeRedisCluster {
  const v = value as Partial<Record<keyof NodeRedisCluster, unknown>>
  return typeof v.evalSha === 'function' && typeof v.nodeClient === 'function' && typeof v.isOpen === 'boolean' && Array.isArray(v.masters)
}

const nameOf = (node: NodeRedisClusterNode): string => `${node.host}:${node.port}`

/** At most one slot-map reading per this long while a master is down (ms). */
const REDISCOVER_EVERY_MS = 500

/**
 * A node-redis cluster (`createCluster` from `redis` v5), connected by the app. Like a plain
 * node-redis client: `EVALSHA`, `EVAL` only on `NOSCRIPT`, routed by the first key (all of one
 * client's keys share a hash tag, so one slot). Ready while open and a master's connection is
 * ready; a master that is reconnecting is `nodeDown`, its keys refused unsent, and while every
 * master is, the cluster is `reconnecting`.
 */
export function nodeRedisClusterAdapter(cluster: NodeRedisCluster): StoreClient {
  let ended = false
  cluster.on('disconnect', () => {
    ended = true
  })
  const allReady = (): boolean => cluster.masters.every((m) => m.client === undefined || m.client.isReady)
  const anyReady = (): boolean => cluster.masters.some((m) => m.client?.isReady === true)
  let rediscoveredAt = Number.NEGATIVE_INFINITY
  // A dead master's slots go to its replica, but node-redis keeps sending them to the dead
  // address until a MOVED, which never comes: read the slot map again from a master that is up.
  const rediscover = (): void => {
    const now = performance.now()
    const from = cluster.masters.find((m) => m.client?.isReady === true)?.client
    if (cluster._slots === undefined || from === undefined || now - rediscoveredAt < REDISCOVER_EVERY_MS) return
    rediscoveredAt = now
    cluster._slots.rediscover(from as never).catch(() => {})
  }
  return Object.freeze({
    family: 'node-redis',
    client: cluster,
    isCluster: true,
    // Ready while any master is: one dead master is that node's trouble (nodeDown), not the
    // whole cluster's, and the keys on the healthy masters keep going to Redis.
    status: () => (cluster.isOpen ? (anyReady() || allReady() ? 'ready' : 'reconnecting') : ended ? 'end' : 'not connected'),
    halfClosed: () => false,
    nodeDown(node: string) {
      const master = cluster.masters.find((m) => nameOf(m) === node)
      const down = master?.client !== undefined && !master.client.isReady
      if (down) rediscover()
      return down
    },
    onReady(listener: () => void) {
      cluster.on('connect', listener)
      cluster.on('node-ready', listener)
    },
    onEnd: (listener: () => void) => void cluster.on('disconnect', listener),
    onError: (listener: (error: unknown) => void) => void cluster.on('error', listener),
    connect: () => Promise.resolve(),
    runScript: scriptRunner(cluster),
    del: (keys: readonly string[]) => cluster.del([...keys]),
    nodeOfSlot: (slot: number) => {
      const master = cluster.slots[slot]?.master
      return master === undefined ? SINGLE_NODE : nameOf(master)
    },
    nodes: () => cluster.masters.map(nameOf),
    time(node: string) {
      const master = cluster.masters.find((m) => nameOf(m) === node)
      return master === undefined ? undefined : cluster.nodeClient(master).then((client) => client.time())
    },
  } satisfies StoreClient)
}
