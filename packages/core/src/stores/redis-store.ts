import calculateSlot from 'cluster-key-slot'
import type { Cluster, Redis } from 'ioredis'
import { ErrorCodes, SluiceError } from '../errors.js'
import { TOKEN_BUCKET_COMMAND, TOKEN_BUCKET_LUA } from '../scripts/token-bucket.js'
import { decodeBatch, encodeBatch } from '../scripts/wire.js'
import { resolveRedisStoreOptions } from '../store-options.js'
import { withTimeout } from '../timeout.js'
import type { BudgetedStore, CheckReply, CheckRequest, CheckStep, RedisClient, RedisStoreOptions } from '../types.js'
import { Batcher } from './batcher.js'
import { DenyCache } from './deny-cache.js'
import { RedisClock } from './redis-clock.js'

export type { RedisStoreOptions } from '../types.js'

type ScriptCommand = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>

/** The node of a plain client; a cluster's nodes are named `host:port`, as ioredis names them. */
const SINGLE_NODE = 'redis'

/** What every store on one client shares: one listener, one view of the nodes' clocks. */
interface Connection {
  readonly clock: RedisClock
  wasReady: boolean
}

const connections = new WeakMap<RedisClient, Connection>()

function connectionOf(client: RedisClient): Connection {
  let connection = connections.get(client)
  if (connection === undefined) {
    const state: Connection = { clock: new RedisClock(), wasReady: client.status === 'ready' }
    connection = state
    connections.set(client, state)
    if (state.wasReady) readClocks(client, state.clock)
    client.on('ready', () => {
      state.wasReady = true
      readClocks(client, state.clock)
    })
  }
  return connection
}

/** One TIME per node whenever the client (re)connects, so even the first batch has a deadline. */
function readClocks(client: RedisClient, clock: RedisClock): void {
  const nodes =
    (client as { isCluster?: boolean }).isCluster === true
      ? (client as Cluster).nodes('master').map((node) => ({ node, name: `${node.options.host}:${node.options.port}` }))
      : [{ node: client as Redis, name: SINGLE_NODE }]
  for (const { node, name } of nodes) {
    const sentAt = performance.now()
    node.time().then(
      ([seconds, micros]) => clock.learn(name, Number(seconds) * 1_000_000 + Number(micros), sentAt, performance.now()),
      () => {}, // a reply will teach the same; until then batches carry no deadline
    )
  }
}

/**
 * Buckets in Redis. The script is registered with ioredis's `defineCommand`, which sends
 * `EVALSHA` and falls back to `EVAL` on `NOSCRIPT` by itself, so a restart, a failover or
 * `SCRIPT FLUSH` never surfaces. Concurrent checks share one script call; on a cluster, one per
 * slot, which the client-id hash tag makes the same for all of one client's keys. Each call
 * carries its deadline in Redis time (see redis-clock.ts), so a call that arrives after its
 * checks were answered without it takes nothing.
 */
export class RedisStore implements BudgetedStore {
  readonly kind = 'redis'
  readonly client: RedisClient
  readonly #script: ScriptCommand
  readonly #batcher: Batcher<CheckRequest, CheckStep> | undefined
  readonly #denied: DenyCache | undefined
  readonly #isCluster: boolean
  readonly #connection: Connection

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    // Every option is checked before anything touches the client: a store that throws here has
    // defined no command on it and left no listener behind.
    const resolved = resolveRedisStoreOptions(client, options)
    this.client = client
    this.#isCluster = (client as { isCluster?: boolean }).isCluster === true
    this.#connection = connectionOf(client)
    if (typeof (client as unknown as Record<string, unknown>)[TOKEN_BUCKET_COMMAND] !== 'function') {
      client.defineCommand(TOKEN_BUCKET_COMMAND, { lua: TOKEN_BUCKET_LUA })
    }
    const command = (client as unknown as Record<string, ScriptCommand>)[TOKEN_BUCKET_COMMAND]!
    this.#script = command.bind(client)
    if (resolved.coalesce) {
      const slotOf = (r: CheckRequest): number => calculateSlot(r.keys[0]!)
      this.#batcher = new Batcher<CheckRequest, CheckStep>(
        (checks, deadline) => this.#send(checks, deadline),
        this.#isCluster ? slotOf : () => 0,
        resolved.maxBatch,
        () => new SluiceError(ErrorCodes.STORE_TIMEOUT, '@sluice: the check waited for Redis past its time budget; it was not sent'),
        () => performance.now(),
        resolved.batchIntervalMs,
      )
    }
    if (resolved.denyCacheKeys > 0) this.#denied = new DenyCache(resolved.denyCacheKeys)
  }

  cached(request: CheckRequest): CheckReply | undefined {
    return this.#denied?.answer(request)
  }

  check(request: CheckRequest): Promise<CheckReply> {
    const cached = this.cached(request)
    return cached !== undefined ? Promise.resolve(cached) : this.checkWithin(request, Number.POSITIVE_INFINITY)
  }

  async checkWithin(request: CheckRequest, budgetMs: number): Promise<CheckReply> {
    const startedAt = performance.now()
    const deadline = startedAt + budgetMs
    const step = this.#batcher !== undefined ? await this.#batcher.push(request, deadline) : (await this.#send([request], deadline))[0]!
    this.#denied?.record(request, step, startedAt)
    return step.reply
  }

  /** Delete a client's buckets; all of them share its hash tag, so one command on one node does. */
  async reset(keys: readonly string[]): Promise<void> {
    this.#assertConnected()
    this.#denied?.forget(keys)
    if (keys.length > 0) await (this.client as Redis).del(...keys)
  }

  #nodeOf(key: string): string {
    if (!this.#isCluster) return SINGLE_NODE
    return (this.client as { slots?: string[][] }).slots?.[calculateSlot(key)]?.[0] ?? SINGLE_NODE
  }

  #assertConnected(): void {
    // ioredis queues commands while it reconnects (through every 'connecting' attempt) and sends
    // them once it is back: refuse at once whenever a client that has been ready is not. (Before
    // that, its first connection is how every client starts.) The deadline a call carries covers what
    // slips past this: commands already written, or resent after a reconnect.
    const status = this.client.status
    // A socket the server has closed can still read 'ready' until ioredis handles the close
    // event; ioredis then queues rather than writes, so check the socket too (plain clients).
    const stream = (this.client as { stream?: { writable?: boolean } }).stream
    if ((status !== 'ready' && (this.#connection.wasReady || status === 'end')) || (status === 'ready' && stream?.writable === false)) {
      throw new SluiceError(ErrorCodes.STORE_UNAVAILABLE, `@sluice: the Redis client is ${status}; nothing was sent`)
    }
  }

  async #send(checks: CheckRequest[], deadlineMs: number): Promise<readonly CheckStep[]> {
    this.#assertConnected()
    const node = this.#nodeOf(checks[0]!.keys[0]!)
    const { keys, args } = encodeBatch(checks, this.#connection.clock.deadlineUs(node, deadlineMs))
    const sentAt = performance.now()
    const call = this.#script(keys.length, ...keys, ...args).then((raw) => {
      const batch = decodeBatch(raw, checks)
      this.#connection.clock.learn(node, batch.redisTimeUs, sentAt, performance.now())
      if (!batch.ran) {
        throw new SluiceError(ErrorCodes.STORE_TIMEOUT, '@sluice: the check reached Redis after its time budget; it took nothing')
      }
      return batch.steps
    })
    return withTimeout(call, deadlineMs - sentAt)
  }
}
