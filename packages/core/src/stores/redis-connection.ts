import { remaining } from '../deadline.js'
import { ErrorCodes, SluiceError } from '../errors.js'
import type { Deadline, StoreClient, StoreSignal } from '../types.js'
import { SINGLE_NODE } from './clients/single-node.js'
import { RedisClock } from './redis-clock.js'

export { SINGLE_NODE }

/**
 * A client as a call finds it: `ready`; `neverReady` (not yet ready once: a call waits for it,
 * within its deadline, as every client starts); `reconnecting` (ready once and not now: ioredis
 * would queue the call and send it whenever it is back); `closed` for good; or `halfClosed`
 * (still 'ready', but the server has closed the socket and ioredis has not handled it yet, so it
 * would queue too).
 */
export type ClientPhase = 'ready' | 'neverReady' | 'reconnecting' | 'closed' | 'halfClosed'

/**
 * What every store on one client shares: one set of listeners, one view of the nodes' clocks,
 * and the rule that nothing is written into the client's offline queue.
 *
 * ioredis (and node-redis) queue commands while the client is not ready (before its first
 * connection, and on every reconnect) and sends them once it is, long after the requests they were for were
 * answered by the failure mode. A script sent without a deadline would then take tokens. So a
 * call goes only to a ready client and a node whose clock this process has read (its deadline
 * needs one); until then it waits, within its own budget, for both.
 */
export class RedisConnection {
  readonly clock = new RedisClock()
  /** Whether the client has been ready once: from then on, a client that is not is refused at once. */
  wasReady: boolean
  readonly #client: StoreClient
  /** Calls waiting for the client to be ready or a clock to be read, each told when either may have changed. */
  readonly #waiters = new Set<() => void>()
  /** Nodes whose TIME is being read, so a burst of calls asks once. */
  readonly #reading = new Set<string>()
  /** The last error the client emitted since it was last ready: why a call cannot go (ECONNREFUSED, NOAUTH, CLUSTERDOWN…). */
  #lastError: string | undefined
  /** Told once, of the first `ready` or `error`, whichever comes first. */
  #firstSignal: ((signal: StoreSignal) => void)[] = []

  constructor(client: StoreClient) {
    this.#client = client
    this.wasReady = client.status() === 'ready'
    if (this.wasReady) this.#readClocks()
    client.onReady(() => {
      // A client of one node that is ready again may be on another server: Sentinel's new
      // primary, whose clock is not the old one's. Its first check waits for its own reading.
      // (A cluster's nodes are named by address: a new master is a node never read.)
      if (this.wasReady && !client.isCluster) this.clock.forget(SINGLE_NODE)
      this.wasReady = true
      this.#lastError = undefined
      this.#signal({ reached: true })
      this.#readClocks()
      this.#wake()
    })
    // The client's errors are its connection's causes: a refused connection, a wrong password, a
    // cluster that is down. Keeping the last one lets a warning name it. Listening also silences
    // ioredis's own "Unhandled error event" print, which it writes only when nobody listens.
    client.onError((error: unknown) => {
      this.#lastError = causeOf(error)
      this.#signal({ reached: false, cause: this.#lastError })
    })
    // A client closed for good wakes its waiters, which then give up at once.
    client.onEnd(() => this.#wake())
  }

  /** Why the client cannot be used: its last error since it was last ready, if any. */
  get cause(): string | undefined {
    return this.#lastError
  }

  /**
   * Tell `listener`, once, whether the client was reached: at its first `ready` or its first
   * error, whichever comes first (at once if either has already happened).
   */
  onFirstSignal(listener: (signal: StoreSignal) => void): void {
    if (this.#client.status() === 'ready') listener({ reached: true })
    else if (this.#lastError !== undefined) listener({ reached: false, cause: this.#lastError })
    else this.#firstSignal.push(listener)
  }

  #signal(signal: StoreSignal): void {
    const listeners = this.#firstSignal
    this.#firstSignal = []
    for (const listener of listeners) listener(signal)
  }

  get phase(): ClientPhase {
    const status = this.#client.status()
    if (status === 'ready') return this.#client.halfClosed() ? 'halfClosed' : 'ready'
    if (status === 'end') return 'closed'
    return this.wasReady ? 'reconnecting' : 'neverReady'
  }

  /**
   * Whether a call must be refused at once, unsent: ioredis would write it into its offline
   * queue and send it once back, long after its request was answered. A client that was never
   * ready is not refused: a call waits for it instead (`usable`). The deadline a call carries
   * covers what slips past this: commands already written, or resent after a reconnect.
   */
  refusesCalls(): boolean {
    const phase = this.phase
    return phase === 'reconnecting' || phase === 'closed' || phase === 'halfClosed'
  }

  /** A reply from `node` read Redis time `redisUs`; see RedisClock.learn. */
  learn(node: string, redisUs: number, sentMs: number, receivedMs: number): void {
    this.clock.learn(node, redisUs, sentMs, receivedMs)
    this.#wake()
  }

  /**
   * The node a call may go to now (`nodeOf` names it once the client is ready and knows its
   * slots), or undefined: the client is not ready, or that node's clock is unknown.
   */
  usableNow(nodeOf: () => string): string | undefined {
    if (this.#client.status() !== 'ready') return undefined
    const node = nodeOf()
    return this.clock.knows(node) ? node : undefined
  }

  /**
   * The node a call may go to, once there is one, or a rejection at `deadline`: the client did
   * not become ready, or no clock was read, within the call's budget.
   */
  usable(nodeOf: () => string, deadline: Deadline): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const done = (): void => {
        this.#waiters.delete(poll)
        if (timer !== undefined) clearTimeout(timer)
      }
      const poll = (): void => {
        const status = this.#client.status()
        if (status === 'end') {
          done()
          reject(new SluiceError(ErrorCodes.STORE_UNAVAILABLE, '@sluice: the Redis client is closed; nothing was sent'))
          return
        }
        // A lazyConnect client waits for a first command to connect, and a check must not be
        // that command: it would sit in the offline queue. Connect it ourselves.
        if (status === 'wait') this.#connect()
        if (status !== 'ready') return
        const node = nodeOf()
        if (this.clock.knows(node)) {
          done()
          resolve(node)
          return
        }
        // Ready, but this node's clock was never read (a cluster node new to this process, or a
        // TIME that failed): read it now.
        this.#readClock(node)
      }
      this.#waiters.add(poll)
      poll()
      if (!this.#waiters.has(poll)) return
      timer = setTimeout(
        () => {
          done()
          reject(
            new SluiceError(
              ErrorCodes.STORE_UNAVAILABLE,
              `@sluice: the Redis client was not ready (${this.#client.status()}) within the check's time budget; nothing was sent`,
            ),
          )
        },
        Math.max(0, remaining(deadline)),
      )
      timer.unref()
    })
  }

  #wake(): void {
    for (const poll of [...this.#waiters]) poll()
  }

  #connect(): void {
    // Its failure shows as the status the waiters read; ioredis retries by itself.
    this.#client.connect().catch(() => {})
  }

  /** One TIME per node whenever the client (re)connects, so even the first batch has a deadline. */
  #readClocks(): void {
    for (const name of this.#client.nodes()) this.#readClock(name)
  }

  #readClock(name: string): void {
    if (this.#reading.has(name)) return
    const sentAt = performance.now()
    const time = this.#client.time(name)
    // A node the cluster client does not know (yet): its waiters give up at their deadlines.
    if (time === undefined) return
    this.#reading.add(name)
    time.then(
      ([seconds, micros]) => {
        this.#reading.delete(name)
        this.learn(name, Number(seconds) * 1_000_000 + Number(micros), sentAt, performance.now())
      },
      () => {
        // Until another reading, or a reply, teaches the same, calls to that node wait.
        this.#reading.delete(name)
      },
    )
  }
}

/** An error's message, with its code when the message does not already say it. */
function causeOf(error: unknown): string {
  try {
    if (!(error instanceof Error)) return String(error)
    const code: unknown = Reflect.get(error, 'code')
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message
  } catch {
    return 'an error that cannot be printed'
  }
}

const connections = new WeakMap<StoreClient, RedisConnection>()

/** The one connection state of `client` (one adapter per app client), made on first use. */
export function connectionOf(client: StoreClient): RedisConnection {
  let connection = connections.get(client)
  if (connection === undefined) {
    connection = new RedisConnection(client)
    connections.set(client, connection)
  }
  return connection
}
