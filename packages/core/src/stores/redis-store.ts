import calculateSlot from 'cluster-key-slot'
import { ErrorCodes, SluiceError } from '../errors.js'
import { TOKEN_BUCKET_COMMAND, TOKEN_BUCKET_LUA } from '../scripts/token-bucket.js'
import { decodeReply, encodeChecks } from '../scripts/wire.js'
import type { CheckReply, CheckRequest, CheckStep, RedisClient, Store } from '../types.js'
import { Batcher } from './batcher.js'
import { DenyCache } from './deny-cache.js'

export interface RedisStoreOptions {
  /**
   * Coalesce the checks of one event-loop turn into one script call (per cluster slot).
   * @default true
   */
  readonly coalesce?: boolean
  /** Most checks in one script call; a long script would hold Redis up. @default 128 */
  readonly maxBatch?: number
  /**
   * Answer checks of a bucket Redis reported empty from memory until its tokens could be back.
   * Set to 0 to turn off. @default 10_000 checks
   */
  readonly denyCacheKeys?: number
}

type ScriptCommand = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>

/**
 * Buckets in Redis. The script is registered with ioredis's `defineCommand`, which sends
 * `EVALSHA` and falls back to `EVAL` on `NOSCRIPT` by itself, so a restart, a failover or
 * `SCRIPT FLUSH` never surfaces. Concurrent checks share one script call; on a cluster, one per
 * slot, which the client-id hash tag makes the same for all of one client's keys.
 */
export class RedisStore implements Store {
  readonly kind = 'redis'
  readonly client: RedisClient
  readonly #script: ScriptCommand
  readonly #batcher: Batcher<CheckRequest, CheckStep> | undefined
  readonly #denied: DenyCache | undefined
  #wasReady: boolean

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    this.client = client
    this.#wasReady = client.status === 'ready'
    if (!this.#wasReady) client.once('ready', () => (this.#wasReady = true))
    if (typeof (client as unknown as Record<string, unknown>)[TOKEN_BUCKET_COMMAND] !== 'function') {
      client.defineCommand(TOKEN_BUCKET_COMMAND, { lua: TOKEN_BUCKET_LUA })
    }
    const command = (client as unknown as Record<string, ScriptCommand>)[TOKEN_BUCKET_COMMAND]!
    this.#script = command.bind(client)
    const isCluster = (client as { isCluster?: boolean }).isCluster === true
    if (options.coalesce ?? true) {
      const slotOf = (r: CheckRequest): number => calculateSlot(r.buckets[0]!.key)
      this.#batcher = new Batcher((checks) => this.#call(checks), isCluster ? slotOf : () => 0, options.maxBatch ?? 128)
    }
    const denyCacheKeys = options.denyCacheKeys ?? 10_000
    if (denyCacheKeys > 0) this.#denied = new DenyCache(denyCacheKeys)
  }

  cached(request: CheckRequest): CheckReply | undefined {
    return this.#denied?.answer(request)
  }

  async check(request: CheckRequest): Promise<CheckReply> {
    const denied = this.#denied
    const cached = denied?.answer(request)
    if (cached !== undefined) return cached
    const sentAt = denied?.now() ?? 0
    const step = this.#batcher !== undefined ? await this.#batcher.push(request) : (await this.#call([request]))[0]!
    denied?.record(request, step.reply, step.debtsNs, sentAt)
    return step.reply
  }

  async #call(checks: CheckRequest[]): Promise<CheckStep[]> {
    // ioredis queues commands while it reconnects (through every 'connecting' attempt) and sends
    // them once it is back: by then their requests were answered by the failure mode, and the
    // late script would take tokens nobody asked for. Once the client has been ready, refuse at
    // once whenever it is not. (Before that, its first connection is how every client starts.)
    const status = this.client.status
    // A socket the server has closed can still read 'ready' until ioredis handles the close
    // event; ioredis then queues rather than writes, so check the socket too (plain clients).
    const stream = (this.client as { stream?: { writable?: boolean } }).stream
    if ((status !== 'ready' && (this.#wasReady || status === 'end')) || (status === 'ready' && stream?.writable === false)) {
      throw new SluiceError(ErrorCodes.STORE_UNAVAILABLE, `@sluice: the Redis client is ${status}; the check was not sent`)
    }
    const { keys, args } = encodeChecks(checks)
    return decodeReply(await this.#script(keys.length, ...keys, ...args), checks)
  }
}
