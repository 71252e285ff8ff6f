import { TOKEN_BUCKET_COMMAND, TOKEN_BUCKET_LUA } from '../../scripts/token-bucket.js'
import type { IoRedisClient, RedisNode, StoreClient } from '../../types.js'
import { SINGLE_NODE } from './single-node.js'

type ScriptCommand = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>

/**
 * The script's command, if `defineCommand` has put it on the client: ioredis adds it at run time
 * under the name it was given, with the signature it documents for defined commands, and beside
 * it a `…Buffer` twin, which is the one used: the reply is integers only, which the plain command
 * would walk, every element, looking for Buffers to turn into strings (2 µs a request in a
 * profile at a moderate load; profile.md).
 */
function scriptCommand(client: IoRedisClient): ScriptCommand | undefined {
  const command: unknown = Reflect.get(client, `${TOKEN_BUCKET_COMMAND}Buffer`)
  return typeof command === 'function' ? (command as ScriptCommand) : undefined
}

/** Whether `value` is an ioredis (or iovalkey, its fork) `Redis` or `Cluster`. */
export function isIoRedis(value: object): value is IoRedisClient {
  const v = value as Partial<Record<keyof IoRedisClient, unknown>>
  return typeof v.defineCommand === 'function' && typeof v.status === 'string'
}

/** A cluster's master nodes, named `host:port`. */
function masters(client: IoRedisClient): { readonly name: string; readonly node: RedisNode }[] {
  return (client.nodes?.('master') ?? []).map((node) => ({ name: `${node.options.host}:${node.options.port}`, node }))
}

/**
 * ioredis and iovalkey. The script is registered with `defineCommand`, which sends `EVALSHA` and
 * falls back to `EVAL` on `NOSCRIPT` by itself; a cluster routes each call by its first key.
 */
export function ioRedisAdapter(client: IoRedisClient): StoreClient {
  if (scriptCommand(client) === undefined) client.defineCommand(TOKEN_BUCKET_COMMAND, { lua: TOKEN_BUCKET_LUA })
  const script = scriptCommand(client)!.bind(client)
  const isCluster = client.isCluster === true
  return Object.freeze({
    family: 'ioredis',
    client,
    isCluster,
    status: () => client.status,
    // Only a plain client has one socket to look at.
    halfClosed: () => client.stream?.writable === false,
    nodeDown: () => false,
    onReady: (listener: () => void) => void client.on('ready', listener),
    onEnd: (listener: () => void) => void client.on('end', listener),
    onError: (listener: (error: unknown) => void) => void client.on('error', listener),
    connect: () => client.connect(),
    runScript: (keys: readonly string[], args: readonly (string | number)[]) => script(keys.length, ...keys, ...args),
    del: (keys: readonly string[]) => client.del(...keys),
    nodeOfSlot: (slot: number) => (isCluster ? (client.slots?.[slot]?.[0] ?? SINGLE_NODE) : SINGLE_NODE),
    nodes: () => (isCluster ? masters(client).map((m) => m.name) : [SINGLE_NODE]),
    time(node: string) {
      const target: Pick<RedisNode, 'time'> | undefined = isCluster ? masters(client).find((m) => m.name === node)?.node : client
      return target?.time()
    },
  } satisfies StoreClient)
}
