import calculateSlot from 'cluster-key-slot'
import { deadlineAt, deadlineIn } from '../deadline.js'
import { DeadlineWatch } from '../deadline-watch.js'
import { ErrorCodes, refused, SluiceError } from '../errors.js'
import { assertEncodable, checkOp, decodeBatch, type EncodedBatch, encodeBatch, firstKey, leaseOp, settleOp } from '../scripts/wire.js'
import { promised } from '../sink.js'
import { resolveRedisStoreOptions } from '../store-options.js'
import { withTimeout } from '../timeout.js'
import type {
  CheckReply,
  CheckRequest,
  CheckStep,
  Deadline,
  LeaseOp,
  RedisClient,
  RedisStoreOptions,
  SettleRequest,
  Sink,
  Store,
  StoreClient,
  WireOp,
} from '../types.js'
import { Batcher } from './batcher.js'
import { adapterOf } from './clients/index.js'
import { DenyCache } from './deny-cache.js'
import { connectionOf, type RedisConnection } from './redis-connection.js'

export type { RedisStoreOptions } from '../types.js'

/** An operation that is already on the wire's terms. */
const toWire = (op: WireOp): WireOp => op

/**
 * Buckets in Redis, through the client's adapter (clients/: ioredis and iovalkey, node-redis),
 * chosen once, here. The script runs by its SHA (`EVALSHA`) and is sent whole (`EVAL`) only on
 * `NOSCRIPT`, so a restart, a failover or `SCRIPT FLUSH` never surfaces. Concurrent checks share one script call; on a cluster, one per
 * slot, which the client-id hash tag makes the same for all of one client's keys. Each call
 * carries its deadline in Redis time (see redis-clock.ts), so a call that arrives after its
 * checks were answered without it takes nothing; no call is sent before the client is ready and
 * that deadline can be computed, and none without one: a direct `check()` or `reset()` has the
 * store's own `timeoutMs`; a limiter calls `checkWithin` and `resetWithin` with its request's
 * deadline, through the store's door (store-door.ts).
 */
export class RedisStore implements Store {
  readonly kind = 'redis'
  readonly client: RedisClient
  readonly #client: StoreClient
  readonly #batcher: Batcher<WireOp, CheckStep> | undefined
  readonly #denied: DenyCache | undefined
  readonly #connection: RedisConnection
  readonly #timeoutMs: number
  /** Every script call's budget, on one timer (deadline-watch.ts). */
  readonly #watch = new DeadlineWatch()

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    // Every option is checked, and the client's family told, before anything touches the
    // client: a store that throws here has defined no command on it and left no listener behind.
    const resolved = resolveRedisStoreOptions(client, options)
    this.client = client
    this.#timeoutMs = resolved.timeoutMs
    this.#client = adapterOf(client)
    this.#connection = connectionOf(this.#client)
    if (resolved.coalesce) {
      // One batch per slot (a script call runs in one), calls in flight counted per node.
      const slotOf = (op: WireOp): number => calculateSlot(firstKey(op))
      this.#batcher = new Batcher<WireOp, CheckStep>({
        flush: (checks, deadline, sink) => this.#send(checks, deadlineAt(deadline), sink),
        groupOf: this.#client.isCluster ? slotOf : () => 0,
        laneOf: (slot) => this.#client.nodeOfSlot(slot as number),
        maxBatch: resolved.maxBatch,
        refuse: () => refused('queued'),
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
    return cached !== undefined ? Promise.resolve(cached) : this.checkWithin(request, deadlineIn(this.#timeoutMs))
  }

  /** A check by `deadline` (after the deny cache, which the caller asks first). */
  checkWithin(request: CheckRequest, deadline: Deadline): Promise<CheckReply> {
    return promised((sink) => this.checkInto(request, deadline, sink))
  }

  /** `checkWithin`, answering `sink` (sink.ts): a limiter's check, with no promise of its own. */
  checkInto(request: CheckRequest, deadline: Deadline, sink: Sink<CheckReply>): void {
    const denied = this.#denied
    if (denied === undefined) {
      this.runInto(checkOp, request, deadline, { resolve: (step) => sink.resolve(step.reply), reject: (error) => sink.reject(error) })
      return
    }
    const startedAt = performance.now()
    this.runInto(checkOp, request, deadline, {
      resolve(step) {
        try {
          denied.record(request, step, startedAt)
        } catch (error) {
          sink.reject(error)
          return
        }
        sink.resolve(step.reply)
      },
      reject: (error) => sink.reject(error),
    })
  }

  /**
   * A settle of a check's cost by `deadline`, coalesced with checks; past the deadline it is
   * refused unsent (or, queued in Redis, not run): then it was provably not applied.
   */
  async settleWithin(request: SettleRequest, deadline: Deadline): Promise<CheckReply> {
    const startedAt = performance.now()
    const step = await this.runWithin(settleOp(request), deadline)
    this.#denied?.settled(request, step, startedAt)
    return step.reply
  }

  /** One operation of the script (a check, a dry run, a settle…) by `deadline`, coalesced with the others. */
  runWithin(op: WireOp, deadline: Deadline): Promise<CheckStep> {
    return promised((sink) => this.runInto(toWire, op, deadline, sink))
  }

  /** `runWithin` of `wire(input)`, answering `sink`: an input that cannot be encoded is refused alone, before it joins a batch whose other operations it would fail. */
  runInto<T>(wire: (input: T) => WireOp, input: T, deadline: Deadline, sink: Sink<CheckStep>): void {
    let op: WireOp
    try {
      op = wire(input)
      assertEncodable(op)
    } catch (error) {
      sink.reject(error)
      return
    }
    if (this.#batcher !== undefined) {
      this.#batcher.enqueue(op, deadline, sink)
      return
    }
    this.#send([op], deadline, { resolve: (steps) => sink.resolve(steps[0]!), reject: (error) => sink.reject(error) })
  }

  /**
   * Renew or release leases by `deadline`, in the same per-slot queue as checks: per op, whether
   * the lease was live (renewed) or there (released).
   */
  leasesWithin(ops: readonly LeaseOp[], deadline: Deadline): Promise<boolean[]> {
    return Promise.all(ops.map((op) => this.runWithin(leaseOp(op), deadline).then((step) => step.reply.admitted)))
  }

  /** Delete a client's buckets; all of them share its hash tag, so one command on one node does. */
  reset(keys: readonly string[]): Promise<void> {
    return this.resetWithin(keys, deadlineIn(this.#timeoutMs))
  }

  /** `reset` by `deadline`; like a check, never written into the client's offline queue. */
  async resetWithin(keys: readonly string[], deadline: Deadline): Promise<void> {
    this.#assertConnected()
    this.#denied?.forget(keys)
    if (keys.length === 0) return
    await this.#whenUsable(keys[0]!, deadline)
    this.#assertConnected()
    await withTimeout(this.#client.del(keys), deadline)
  }

  /** Refuse at once, unsent, a call to a client that is reconnecting, closed, or half-closed (redis-connection.ts). */
  #assertConnected(): void {
    if (this.#connection.refusesCalls()) {
      throw new SluiceError(ErrorCodes.STORE_UNAVAILABLE, `@sluice: the Redis client is ${this.#client.status()}; nothing was sent`)
    }
  }

  /** The node of `key` once the client is ready and that node's clock known, within the deadline. */
  #whenUsable(key: string, deadline: Deadline): string | Promise<string> {
    const nodeOf = this.#client.isCluster ? (): string => this.#client.nodeOfSlot(calculateSlot(key)) : this.#singleNode
    return this.#connection.usableNow(nodeOf) ?? this.#connection.usable(nodeOf, deadline)
  }

  /** A plain client's one node, named once: no slot to hash, no closure per call. */
  readonly #singleNode = (): string => this.#client.nodeOfSlot(0)

  #send(checks: WireOp[], deadline: Deadline, sink: Sink<readonly CheckStep[]>): void {
    let node: string | Promise<string>
    try {
      this.#assertConnected()
      node = this.#whenUsable(firstKey(checks[0]!), deadline)
    } catch (error) {
      sink.reject(error)
      return
    }
    // The usual case, a ready client whose node's clock is known, goes this turn, with no wait.
    if (typeof node === 'string') this.#call(checks, node, deadline, sink)
    else
      node.then(
        (usable) => this.#call(checks, usable, deadline, sink),
        (error: unknown) => sink.reject(error),
      )
  }

  #call(checks: WireOp[], node: string, deadline: Deadline, sink: Sink<readonly CheckStep[]>): void {
    let call: Promise<unknown>
    let sentAt: number
    try {
      const { keys, args } = this.#encoded(checks, node, deadline)
      sentAt = performance.now()
      call = this.#client.runScript(keys, args)
    } catch (error) {
      sink.reject(error)
      return
    }
    // At the deadline the batch is refused, and a reply that comes after is only learnt from.
    const watched = this.#watch.watch(deadline, sink)
    call.then(
      (raw) => {
        let steps: readonly CheckStep[] | undefined
        let failure: unknown
        try {
          const batch = decodeBatch(raw, checks)
          this.#connection.learn(node, batch.redisTimeUs, sentAt, performance.now())
          if (batch.ran) steps = batch.steps
          else failure = refused('late')
        } catch (error) {
          failure = error
        }
        if (!this.#watch.settle(watched)) return
        if (steps !== undefined) sink.resolve(steps)
        else sink.reject(failure)
      },
      (error: unknown) => {
        if (this.#watch.settle(watched)) sink.reject(error)
      },
    )
  }

  /** A batch's keys and arguments, once its node is known usable; throws (unsent) when it is not. */
  #encoded(checks: WireOp[], node: string, deadline: Deadline): EncodedBatch {
    // The wait may have outlasted a connection that was ready.
    this.#assertConnected()
    // One master of a cluster down: its keys are refused unsent, the others' go.
    if (this.#client.nodeDown(node)) {
      throw new SluiceError(ErrorCodes.STORE_UNAVAILABLE, `@sluice: the Redis node ${node} is reconnecting; nothing was sent`)
    }
    // The deadline in Redis time, converted here at the wire; 0 while the node's clock is unknown.
    const deadlineUs = this.#connection.clock.deadlineUs(node, deadline)
    if (deadlineUs === 0) throw refused('queued')
    return encodeBatch(checks, deadlineUs)
  }
}
