import { createHash } from 'node:crypto'
import { TOKEN_BUCKET_LUA } from '../../scripts/token-bucket.js'
import type { NodeRedisClient, NodeRedisScriptOptions, StoreClient } from '../../types.js'
import { SINGLE_NODE } from './single-node.js'

/** The script's SHA1, as Redis names it in `SCRIPT LOAD`, `EVALSHA` and `NOSCRIPT`. */
export const TOKEN_BUCKET_SHA = createHash('sha1').update(TOKEN_BUCKET_LUA).digest('hex')

/** Whether `value` is a node-redis client (`createClient`): a cluster has no `isReady`. */
export function isNodeRedis(value: object): value is NodeRedisClient {
  const v = value as Partial<Record<keyof NodeRedisClient, unknown>>
  return typeof v.evalSha === 'function' && typeof v.isReady === 'boolean' && typeof v.isOpen === 'boolean'
}

/** Redis's answer to EVALSHA for a script it does not hold. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}

/**
 * node-redis (`redis` v5). Its scripts are declared when a client is created, and this client
 * was made by the app, so the adapter does what ioredis's `defineCommand` does: `EVALSHA`, and
 * `EVAL` (which loads the script again) only when Redis answers `NOSCRIPT` after a restart, a
 * failover or `SCRIPT FLUSH`. Arguments go as strings. The app connects and closes the client;
 * one the app has not connected yet is waited for, like any client that was never ready.
 */
export function nodeRedisAdapter(client: NodeRedisClient): StoreClient {
  let ended = false
  client.on('end', () => {
    ended = true
  })
  const run = async (options: NodeRedisScriptOptions): Promise<unknown> => {
    try {
      return await client.evalSha(TOKEN_BUCKET_SHA, options)
    } catch (error) {
      if (!isNoScript(error)) throw error
      return client.eval(TOKEN_BUCKET_LUA, options)
    }
  }
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
    runScript: (keys: readonly string[], args: readonly (string | number)[]) => run({ keys: [...keys], arguments: args.map(String) }),
    del: (keys: readonly string[]) => client.del([...keys]),
    nodeOfSlot: () => SINGLE_NODE,
    nodes: () => [SINGLE_NODE],
    time: (node: string) => (node === SINGLE_NODE ? client.time() : undefined),
  } satisfies StoreClient)
}
