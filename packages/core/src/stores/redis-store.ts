import type { Cluster, Redis } from 'ioredis'
import type { CheckReply, CheckRequest, CheckStatus } from '../bucket.js'
import { ErrorCodes, SluiceError } from '../errors.js'
import { REPLY_WIDTH, TOKEN_BUCKET_COMMAND, TOKEN_BUCKET_LUA } from '../scripts/token-bucket.js'
import type { Store } from './store.js'

/** An ioredis `Redis` or `Cluster`: the store never creates or closes it. */
export type RedisClient = Redis | Cluster

type ScriptCommand = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>

const STATUS: Record<number, CheckStatus> = { 0: 'denied', 1: 'allowed', 2: 'cost-exceeds-capacity' }

/**
 * Buckets in Redis, one `EVALSHA` per check. The script is registered with ioredis's
 * `defineCommand`, which sends `EVALSHA` and falls back to `EVAL` on `NOSCRIPT` by itself, so a
 * restart, a failover or `SCRIPT FLUSH` never surfaces.
 */
export class RedisStore implements Store {
  readonly kind = 'redis'
  readonly client: RedisClient
  readonly #script: ScriptCommand

  constructor(client: RedisClient) {
    this.client = client
    if (typeof (client as unknown as Record<string, unknown>)[TOKEN_BUCKET_COMMAND] !== 'function') {
      client.defineCommand(TOKEN_BUCKET_COMMAND, { lua: TOKEN_BUCKET_LUA })
    }
    const command = (client as unknown as Record<string, ScriptCommand>)[TOKEN_BUCKET_COMMAND]!
    this.#script = command.bind(client)
  }

  async check(request: CheckRequest): Promise<CheckReply> {
    const raw = await this.#script(1, request.key, request.intervalNs, request.capacity, request.cost)
    return parseReply(raw, 0)
  }
}

/** Read the five integers of check `index` from a script reply. */
export function parseReply(raw: unknown, index: number): CheckReply {
  if (!Array.isArray(raw) || raw.length < (index + 1) * REPLY_WIDTH) {
    throw new SluiceError(ErrorCodes.STORE_REPLY, '@sluice: the token-bucket script returned an unexpected reply')
  }
  const at = index * REPLY_WIDTH
  const status = STATUS[raw[at] as number]
  if (status === undefined) {
    throw new SluiceError(ErrorCodes.STORE_REPLY, `@sluice: unknown token-bucket status ${String(raw[at])}`)
  }
  return {
    status,
    remaining: Math.max(0, raw[at + 1] as number),
    retryAfterMs: status === 'cost-exceeds-capacity' ? Number.POSITIVE_INFINITY : (raw[at + 2] as number),
    resetMs: raw[at + 3] as number,
    nextTokenMs: raw[at + 4] as number,
  }
}
