import type { NodeRedisCluster, NodeRedisClusterNode, StoreClient } from '../../types.js'
import { scriptRunner } from './node-redis-script.js'
import { SINGLE_NODE } from './single-node.js'

/** Whether `value` is a node-redis cluster (`createCluster`): masters and slots, and no `isReady`. */
export function isNodeRedisCluster(value: object): value is NodeRedisCluster {
  const v = value as Partial<Record<keyof NodeRedisCluster, unknown>>
  return typeof v.evalSha === 'function' && typeof v.nodeClient === 'function' && typeof v.isOpen === 'boolean' && Array.isArray(v.masters)
}

const nameOf = (node: NodeRedisClusterNode): string => `${node.host}:${node.port}`

/**
 * A node-redis cluster (`createCluster` from `redis` v5), connected by the app. Like a plain
 * node-redis client: `EVALSHA`, `EVAL` only on `NOSCRIPT`, routed by the first key (all of one
 * client's keys share a hash tag, so one slot). Ready while open and every master's connection
 * is ready; a master that is reconnecting makes it `reconnecting`, as an ioredis cluster is.
 */
export function nodeRedisClusterAdapter(cluster: NodeRedisCluster): StoreClient {
  let ended = false
  cluster.on('disconnect', () => {
    ended = true
  })
  const allReady = (): boolean => cluster.masters.every((m) => m.client === undefined || m.client.isReady)
  return Object.freeze({
    family: 'node-redis',
    client: cluster,
    isCluster: true,
    status: () => (cluster.isOpen ? (allReady() ? 'ready' : 'reconnecting') : ended ? 'end' : 'not connected'),
    halfClosed: () => false,
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
