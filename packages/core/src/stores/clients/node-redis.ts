import type { NodeRedisClient, StoreClient } from '../../types.js'
import { scriptRunner } from './node-redis-script.js'
import { SINGLE_NODE } from './single-node.js'

/** Whether `value` is a node-redis client (`createClient`): a cluster has no `isReady`. */
export function isNodeRedis(value: object): value is NodeRedisClient {
  const v = value as Partial<Record<keyof NodeRedisClient, unknown>>
  return typeof v.evalSha === 'function' && typeof v.isReady === 'boolean' && typeof v.isOpen === 'boolean'
}

/**
 * node-redis (`redis` v5), the script run by its SHA (node-redis-script.ts). The app connects and closes the client;
 * one the app has not connected yet is waited for, like any client that was never ready.
 */
export function nodeRedisAdapter(client: NodeRedisClient): StoreClient {
  let ended = false
  client.on('end', () => {
    ended = true
  })
  return Object.freeze({
    family: 'node-redis',
    client,
    isCluster: false,
    // Open and not ready is connecting or reconnecting; node-redis would queue a command offline.
    status: () => (client.isReady ? 'ready' : client.isOpen ? 'reconnecting' : ended ? 'end' : 'not connected'),
    // node-redis watches its own socket and stops being ready when it closes.
    halfClosed: () => false,
    nodeDown: () => false,
    onReady: (listener: () => void) => void client.on('ready', listener),
    onEnd: (listener: () => void) => void client.on('end', listener),
    onError: (listener: (error: unknown) => void) => void client.on('error', listener),
    // The app connects a node-redis client; Sluice never does.
    connect: () => Promise.resolve(),
    runScript: scriptRunner(client),
    del: (keys: readonly string[]) => client.del([...keys]),
    nodeOfSlot: () => SINGLE_NODE,
    nodes: () => [SINGLE_NODE],
    time: (node: string) => (node === SINGLE_NODE ? client.time() : undefined),
  } satisfies StoreClient)
}
