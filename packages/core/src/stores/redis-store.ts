import calculateSlot from 'cluster-key-slot'
import type { Cluster, Redis } from 'ioredis'
import type { CheckReply, CheckRequest, CheckStatus } from '../bucket.js'
import { ErrorCodes, SluiceError } from '../errors.js'
import { REPLY_WIDTH, TOKEN_BUCKET_COMMAND, TOKEN_BUCKET_LUA } from '../scripts/token-bucket.js'
import { Batcher } from './batcher.js'
import { DenyCache } from './deny-cache.js'
import type { Store } from './store.js'

/** An ioredis `Redis` or `Cluster`: the store never creates or closes it. */
export type RedisClient = Redis | Cluster

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
   * Set to 0 to turn off. @default 10_000 buckets
   */
  readonly denyCacheKeys?: number
}

type ScriptCommand = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>

const STATUS: Record<number, CheckStatus> = { 0: 'denied', 1: 'allowed', 2: 'cost-exceeds-capacity' }

interface Answer {
  readonly reply: CheckReply
  readonly debtNs: number
}

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
  readonly #batcher: Batcher<CheckRequest, Answer> | undefined
  readonly #denied: DenyCache | undefined

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    this.client = client
    if (typeof (client as unknown as Record<string, unknown>)[TOKEN_BUCKET_COMMAND] !== 'function') {
      client.defineCommand(TOKEN_BUCKET_COMMAND, { lua: TOKEN_BUCKET_LUA })
    }
    const command = (client as unknown as Record<string, ScriptCommand>)[TOKEN_BUCKET_COMMAND]!
    this.#script = command.bind(client)
    const isCluster = (client as { isCluster?: boolean }).isCluster === true
    if (options.coalesce ?? true) {
      this.#batcher = new Batcher((requests) => this.#call(requests), isCluster ? (r) => calculateSlot(r.key) : () => 0, options.maxBatch ?? 128)
    }
    const denyCacheKeys = options.denyCacheKeys ?? 10_000
    if (denyCacheKeys > 0) this.#denied = new DenyCache(denyCacheKeys)
  }

  async check(request: CheckRequest): Promise<CheckReply> {
    const denied = this.#denied
    const cached = denied?.answer(request)
    if (cached !== undefined) return cached
    const sentAt = denied?.now() ?? 0
    const answer = this.#batcher !== undefined ? await this.#batcher.push(request) : (await this.#call([request]))[0]!
    denied?.record(request, answer.reply, answer.debtNs, sentAt)
    return answer.reply
  }

  async #call(requests: CheckRequest[]): Promise<Answer[]> {
    const args: (string | number)[] = requests.map((r) => r.key)
    for (const r of requests) args.push(r.intervalNs, r.capacity, r.cost)
    const raw = await this.#script(requests.length, ...args)
    return requests.map((_, i) => ({ reply: parseReply(raw, i), debtNs: (raw as number[])[i * REPLY_WIDTH + 5]! }))
  }
}

/** Read the reply of check `index` from a script reply. */
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
