import calculateSlot from 'cluster-key-slot'
import type { Redis } from 'ioredis'
import { ErrorCodes, SluiceError } from '../errors.js'
import { TOKEN_BUCKET_COMMAND, TOKEN_BUCKET_LUA } from '../scripts/token-bucket.js'
import { assertEncodable, decodeBatch, encodeBatch } from '../scripts/wire.js'
import { MAX_TIMEOUT_MS, resolveRedisStoreOptions } from '../store-options.js'
import { withTimeout } from '../timeout.js'
import type { BudgetedStore, CheckReply, CheckRequest, CheckStep, RedisClient, RedisStoreOptions } from '../types.js'
import { Batcher } from './batcher.js'
import { DenyCache } from './deny-cache.js'
import { connectionOf, type RedisConnection, SINGLE_NODE } from './redis-connection.js'

export type { RedisStoreOptions } from '../types.js'

type ScriptCommand = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>

/** A caller's budget as one the script can honour: at most the longest, and never endless. */
function finiteBudget(ms: number): number {
  return Number.isNaN(ms) ? 0 : Math.min(Math.max(ms, 0), MAX_TIMEOUT_MS)
}

/**
 * Buckets in Redis. The script is registered with ioredis's `defineCommand`, which sends
 * `EVALSHA` and falls back to `EVAL` on `NOSCRIPT` by itself, so a restart, a failover or
 * `SCRIPT FLUSH` never surfaces. Concurrent checks share one script call; on a cluster, one per
 * slot, which the client-id hash tag makes the same for all of one client's keys. Each call
 * carries its deadline in Redis time (see redis-clock.ts), so a call that arrives after its
 * checks were answered without it takes nothing; no call is sent before the client is ready and
 * that deadline can be computed, and none without one: a direct `check()` or `reset()` has the
 * store's own `timeoutMs`.
 */
export class RedisStore implements BudgetedStore {
  readonly kind = 'redis'
  readonly client: RedisClient
  readonly #script: ScriptCommand
  readonly #batcher: Batcher<CheckRequest, CheckStep> | undefined
  readonly #denied: DenyCache | undefined
  readonly #isCluster: boolean
  readonly #connection: RedisConnection
  readonly #timeoutMs: number

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    // Every option is checked before anything touches the client: a store that throws here has
    // defined no command on it and left no listener behind.
    const resolved = resolveRedisStoreOptions(client, options)
    this.client = client
    this.#timeoutMs = resolved.timeoutMs
    this.#isCluster = (client as { isCluster?: boolean }).isCluster === true
    this.#connection = connectionOf(client)
    if (typeof (client as unknown as Record<string, unknown>)[TOKEN_BUCKET_COMMAND] !== 'function') {
      client.defineCommand(TOKEN_BUCKET_COMMAND, { lua: TOKEN_BUCKET_LUA })
    }
    const command = (client as unknown as Record<string, ScriptCommand>)[TOKEN_BUCKET_COMMAND]!
    this.#script = command.bind(client)
    if (resolved.coalesce) {
      // One batch per slot (a script call runs in one), calls in flight counted per node.
      const slotOf = (r: CheckRequest): number => calculateSlot(r.keys[0]!)
      this.#batcher = new Batcher<CheckRequest, CheckStep>({
        flush: (checks, deadline) => this.#send(checks, deadline),
        groupOf: this.#isCluster ? slotOf : () => 0,
        laneOf: (slot) => this.#nodeOfSlot(slot as number),
        maxBatch: resolved.maxBatch,
        refuse: () =>
          new SluiceError(ErrorCodes.STORE_TIMEOUT, '@sluice: the check waited for Redis past its time budget; it was not sent'),
        minIntervalMs: resolved.batchIntervalMs,
      })
    }
    if (resolved.denyCacheKeys > 0) this.#denied = new DenyCache(resolved.denyCacheKeys)
  }

  cached(request: CheckRequest): CheckReply | undefined {
    return this.#denied?.answer(request)
  }

  check(request: CheckRequest): Promise<CheckReply> {
    const cached = this.cached(request)
    return cached !== undefined ? Promise.resolve(cached) : this.checkWithin(request, this.#timeoutMs)
  }

  async checkWithin(request: CheckRequest, budgetMs: number): Promise<CheckReply> {
    // Refused alone, before it joins a batch whose other checks it would fail.
    assertEncodable(request)
    const startedAt = performance.now()
    // Every call has a finite deadline, the script's too: an endless budget would let a call
    // that Redis receives late (after a freeze, a reconnect) take tokens whenever it lands.
    const deadline = startedAt + finiteBudget(budgetMs)
    const step = this.#batcher !== undefined ? await this.#batcher.push(request, deadline) : (await this.#send([request], deadline))[0]!
    this.#denied?.record(request, step, startedAt)
    return step.reply
  }

  /** Delete a client's buckets; all of them share its hash tag, so one command on one node does. */
  reset(keys: readonly string[]): Promise<void> {
    return this.resetWithin(keys, this.#timeoutMs)
  }

  /** `reset` within a time budget; like a check, never written into the client's offline queue. */
  async resetWithin(keys: readonly string[], budgetMs: number): Promise<void> {
    const deadline = performance.now() + finiteBudget(budgetMs)
    this.#assertConnected()
    this.#denied?.forget(keys)
    if (keys.length === 0) return
    await this.#whenUsable(keys[0]!, deadline)
    this.#assertConnected()
    await withTimeout((this.client as Redis).del(...keys), deadline - performance.now())
  }

  #nodeOf(key: string): string {
    return this.#isCluster ? this.#nodeOfSlot(calculateSlot(key)) : SINGLE_NODE
  }

  #nodeOfSlot(slot: number): string {
    if (!this.#isCluster) return SINGLE_NODE
    return (this.client as { slots?: string[][] }).slots?.[slot]?.[0] ?? SINGLE_NODE
  }

  #assertConnected(): void {
    // ioredis queues commands while it reconnects (through every 'connecting' attempt) and sends
    // them once it is back: refuse at once whenever a client that has been ready is not. Before
    // its first ready, a call waits for it within its budget instead (redis-connection.ts): that
    // is how every client starts. The deadline a call carries covers what slips past this:
    // commands already written, or resent after a reconnect.
    const status = this.client.status
    // A socket the server has closed can still read 'ready' until ioredis handles the close
    // event; ioredis then queues rather than writes, so check the socket too (plain clients).
    const stream = (this.client as { stream?: { writable?: boolean } }).stream
    if ((status !== 'ready' && (this.#connection.wasReady || status === 'end')) || (status === 'ready' && stream?.writable === false)) {
      throw new SluiceError(ErrorCodes.STORE_UNAVAILABLE, `@sluice: the Redis client is ${status}; nothing was sent`)
    }
  }

  /** The node of `key` once the client is ready and that node's clock known, within the deadline. */
  #whenUsable(key: string, deadlineMs: number): string | Promise<string> {
    const nodeOf = (): string => this.#nodeOf(key)
    return this.#connection.usableNow(nodeOf) ?? this.#connection.usable(nodeOf, deadlineMs)
  }

  async #send(checks: CheckRequest[], deadlineMs: number): Promise<readonly CheckStep[]> {
    this.#assertConnected()
    const node = await this.#whenUsable(checks[0]!.keys[0]!, deadlineMs)
    // The wait may have outlasted a connection that was ready.
    this.#assertConnected()
    const deadlineUs = this.#connection.clock.deadlineUs(node, deadlineMs)
    if (deadlineUs === 0)
      throw new SluiceError(ErrorCodes.STORE_TIMEOUT, '@sluice: the check had no deadline Redis could honour; it was not sent')
    const { keys, args } = encodeBatch(checks, deadlineUs)
    const sentAt = performance.now()
    const call = this.#script(keys.length, ...keys, ...args).then((raw) => {
      const batch = decodeBatch(raw, checks)
      this.#connection.learn(node, batch.redisTimeUs, sentAt, performance.now())
      if (!batch.ran) {
        throw new SluiceError(ErrorCodes.STORE_TIMEOUT, '@sluice: the check reached Redis after its time budget; it took nothing')
      }
      return batch.steps
    })
    return withTimeout(call, deadlineMs - sentAt)
  }
}
