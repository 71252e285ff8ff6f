/**
 * The types that several modules share, in one place: implementation files import their types
 * from here, never from each other, so no two of them depend on each other for a type.
 */
// Buckets and checks: what a store is asked and answers

/**
 * A check's way back up, without a promise per layer (sink.ts). A sink never throws: a step that
 * can throw catches and rejects the sink it passes to, so no check is left unanswered.
 */
export interface Sink<T> {
  resolve(value: T): void
  reject(error: unknown): void
}

/** Whether one bucket, on its own, can afford the cost. */
export type CheckStatus = 'allowed' | 'denied' | 'cost-exceeds-capacity'

/** The shape of one bucket: what a check needs of a policy. */
export interface BucketPolicy {
  /** Largest burst, in whole tokens (≥ 1). */
  readonly capacity: number
  /** Nanoseconds to refill one token (≥ 1): 1e9 / refillPerSecond, rounded once. */
  readonly intervalNs: number
  /** True for a shadow policy: measured and reported, never a reason to deny. */
  readonly shadow: boolean
}

/**
 * One check, what a store is asked: take `cost` tokens from every bucket, all or nothing. The
 * policies are the limiter's own frozen objects, so building a check allocates little.
 */
export interface CheckRequest {
  /** One store key per bucket (prefix, hash tag and bucket id included). */
  readonly keys: readonly string[]
  /** The shape of each bucket, in the order of `keys`. */
  readonly policies: readonly BucketPolicy[]
  /** Tokens this request takes from each bucket (≥ 1). */
  readonly cost: number
  /** Answer as if checked, and take nothing (an operator's peek). */
  readonly dryRun?: boolean
  /**
   * In-flight slots to take with the buckets, all or nothing: one per concurrency policy. A
   * store without the `leases` capability never sees one.
   */
  readonly slots?: readonly SlotClaim[]
}

/** One in-flight slot a check asks for: a lease on `key` (a sorted set), admitted if fewer than `limit` are live. */
export interface SlotClaim {
  /** The client's slot set: `<prefix>{<client>}:c:<bucket id>`. */
  readonly key: string
  /** At most this many live leases (the policy's `concurrency`). */
  readonly limit: number
  /** A lease lives this long from its last renewal, on the store's clock. */
  readonly leaseMs: number
  /** The lease's member: made by the app (process-random + counter), so a retried release is idempotent. */
  readonly leaseId: string
}

/** What a store answers for one slot of a check. */
export interface SlotReply {
  /** Whether a slot was free (fewer than `limit` live leases), whatever the other policies said. */
  readonly status: 'allowed' | 'denied'
  /** Whether the lease was taken: the check was admitted and a slot was free. */
  readonly taken: boolean
  /** Free slots after the check: limit − live leases (0 on a refusal by this slot). */
  readonly free: number
}

/** One lease to renew or release: its slot set, its member, its length. */
export interface LeaseRef {
  readonly key: string
  readonly leaseId: string
  readonly leaseMs: number
}

/** A renewal or a release of leases, as a store runs it. */
export interface LeaseOp {
  readonly op: 'renew' | 'release'
  readonly lease: LeaseRef
}

/** What a store answers for one bucket; every number is a whole number. */
export interface BucketReply {
  /** Whether this bucket could afford the cost, whatever the others said. */
  readonly status: CheckStatus
  /** Whether this bucket paid: the check was admitted and the bucket could afford it. */
  readonly taken: boolean
  /** floor(tokens) after the check. */
  readonly remaining: number
  /** Milliseconds until `cost` tokens are available: 0 when it can afford them now, Infinity when never. */
  readonly retryAfterMs: number
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number
  /** Milliseconds until the next whole token (until more quota is made available); 0 when the bucket is full. */
  readonly nextTokenMs: number
}

export interface CheckReply {
  /** True when every enforcing bucket could afford the cost and every slot was free (and so all of them paid). */
  readonly admitted: boolean
  /** One reply per bucket, in request order. */
  readonly buckets: readonly BucketReply[]
  /** One reply per slot the request asked for, in request order; absent when it asked for none. */
  readonly slots?: readonly SlotReply[]
}

/** A check's reply and every bucket's debt afterwards. */
export interface CheckStep {
  readonly reply: CheckReply
  readonly debtsNs: readonly number[]
}

/**
 * Where buckets live. A check goes in, its reply comes back as a promise; how the store gets
 * there (one script call per check, or many concurrent checks coalesced into one call) is its
 * own business, so a faster store drops in without touching the limiter or the adapters. A
 * store that rejects, throws or answers something that is not a reply has failed, and the
 * limiter's failure mode answers instead.
 */
export interface Store {
  /** Apply one check atomically, all of its buckets or none. Rejects only when the store itself fails. */
  check(request: CheckRequest): Promise<CheckReply>
  /** A short name for logs and metrics (`redis`, `memory`). */
  readonly kind: string
  /**
   * An answer the store can give at once from what it holds in process (such as a bucket it
   * knows to be empty), or undefined. Lets the limiter skip the time budget and the breaker for
   * answers that never leave the process. Its answers are checked like `check`'s: one that
   * throws, or answers something that is not a reply, is a store failure.
   */
  cached?(request: CheckRequest): CheckReply | undefined
  /** Delete these buckets, so they start full again (an operator's reset). */
  reset?(keys: readonly string[]): Promise<void>
}

/**
 * When a store call's answer is due: an absolute instant on this process's monotonic clock
 * (`performance.now()` ms), made once per request (deadline.ts) and handed down as it is.
 */
export type Deadline = number & { readonly __deadline: unique symbol }

/**
 * A settle: the difference between a request's actual cost and what its check reserved, applied
 * to the buckets that check took from (captured at admission, never recomputed).
 */
export interface SettleRequest {
  /** The store keys of the buckets the check took from. */
  readonly keys: readonly string[]
  /** Their shapes, in the order of `keys`, as the check had them. */
  readonly policies: readonly BucketPolicy[]
  /** actual − reserved: a whole number ≠ 0; more debt when positive, a refund when negative. */
  readonly delta: number
}

/**
 * One operation a store runs: a check, a dry run of one (an operator's peek, which takes
 * nothing), or a settle of a check's cost afterwards (only a store whose caps say `settles`).
 * Every operation answers a `CheckReply`: a settle's describes its buckets after it.
 */
export type StoreOp =
  | { readonly op: 'check' | 'peek'; readonly request: CheckRequest }
  | { readonly op: 'settle'; readonly request: SettleRequest }

/**
 * One operation as the token-bucket script reads it (scripts/wire.ts, `OpKinds`): its kind
 * (0 check, 1 dry run, 2 extra charge, 3 refund; 4–7 reserved for leases), a magnitude in whole
 * tokens (a cost, or a settle's |delta|), and its buckets.
 */
export interface WireOp {
  readonly kind: number
  readonly magnitude: number
  readonly keys: readonly string[]
  readonly policies: readonly BucketPolicy[]
  /** Kind 4: the in-flight slots the check also takes, all or nothing with its buckets. */
  readonly slots?: readonly SlotClaim[]
  /** Kinds 5 and 6: the lease renewed (magnitude its leaseMs) or released. */
  readonly lease?: LeaseRef
}

/** What a store can do besides checks, declared once where it is normalized (store-door.ts). */
export interface StoreCaps {
  /** Whether a call can fail or be late (a remote store): then the failover guards it. */
  readonly canFail: boolean
  /** Whether it can settle a check's cost afterwards (room for issue 21). */
  readonly settles: boolean
  /** Whether it can hold in-flight leases: slots in a check, `runLeases` (concurrency policies). */
  readonly leases: boolean
}

/**
 * The one internal shape of a store, built once where options are resolved (`doorOf`): every
 * call of the limiter, the failover and the controls goes through it, under a deadline.
 */
export interface StoreDoor {
  readonly kind: string
  /** The store as the app gave it (or Sluice built it): what bucket claims are keyed by. */
  readonly store: Store
  readonly caps: StoreCaps
  /** An answer from process memory, with no call and no deadline (the Redis deny cache). */
  readonly cached?: (request: CheckRequest) => CheckReply | undefined
  /** Run `ops` by `deadline`: one reply per op, in order. Rejects when the store fails, or at the deadline. */
  run(ops: readonly StoreOp[], deadline: Deadline): Promise<CheckReply[]>
  /** One check by `deadline`, answering `sink` (sink.ts): a limiter's check, with no promise of its own. */
  check(request: CheckRequest, deadline: Deadline, sink: Sink<CheckReply>): void
  /**
   * Renew or release leases by `deadline` (stores with `caps.leases`): per op, true when the
   * lease was live (renewed) or present (released); false for a lease that had expired or gone.
   */
  runLeases?(ops: readonly LeaseOp[], deadline: Deadline): Promise<boolean[]>
  /** Delete these buckets by `deadline`; rejects with ERR_SLUICE_STORE_UNAVAILABLE for a store that cannot. */
  reset(keys: readonly string[], deadline: Deadline): Promise<void>
  /**
   * The node a check goes to, which names the circuit breaker that answers for it: a Cluster
   * master (`host:port`, as the batcher's lanes are keyed), or the store's kind for a store of one node.
   */
  nodeOf(request: { readonly keys: readonly string[]; readonly slots?: readonly { readonly key: string }[] }): string
  /** Why the store cannot be reached, when its client said (the Redis client's last error since it was ready). */
  readonly cause?: () => string | undefined
  /** Tell `listener` once whether the store was first reached or failing (the Redis client's first `ready` or error). */
  readonly onFirstSignal?: (listener: (signal: StoreSignal) => void) => void
}

/** Whether a store's client was reached at start-up, or the cause it gave for failing. */
export type StoreSignal = { readonly reached: true } | { readonly reached: false; readonly cause: string }

/** A monotonic clock in whole nanoseconds. */
export type NanoClock = () => number

/** `new MemoryStore(options)`. Defaults live in store-options.ts. */
export interface MemoryStoreOptions {
  /**
   * Most buckets kept (1–10⁸); the least recently used is dropped first, so a flood of distinct
   * keys cannot grow memory without bound. A dropped bucket starts full if its client returns.
   * @default 100_000
   */
  readonly maxKeys?: number
  /** Injected clock for tests. @default process.hrtime, relative to the store's creation */
  readonly clock?: NanoClock
}

/** `new RedisStore(client, options)`. Defaults live in store-options.ts. */
export interface RedisStoreOptions {
  /**
   * Coalesce checks into script calls (one per cluster slot): a check goes at the end of its
   * event-loop turn with the others of that turn, or, while a call is in flight on its node,
   * with everything that arrives until that call is answered. Off: one call per check.
   * @default true
   */
  readonly coalesce?: boolean
  /** Most checks in one script call (1–10,000); a long script would hold Redis up. @default 128 */
  readonly maxBatch?: number
  /**
   * Opt-in cap on Redis CPU: at most one script call per cluster slot (per process) this often
   * (0–1,000 ms). Checks that arrive less than this long after a call left wait for the next
   * one, so at moderate load a call carries more checks, for a wait of up to this long on each
   * of them. 0: no floor; calls go as soon as the previous one on their node is answered.
   * @default 0
   */
  readonly batchIntervalMs?: number
  /**
   * Answer checks of a bucket Redis reported empty from memory, for at most a second, until its
   * tokens could be back (0–10⁶ buckets). Set to 0 to turn off. @default 10_000 buckets
   */
  readonly denyCacheKeys?: number
  /**
   * Time budget (1–60,000 ms) of a direct `check()` or `reset()` on the store; past it the call
   * rejects with `ERR_SLUICE_STORE_TIMEOUT` or `ERR_SLUICE_STORE_UNAVAILABLE`, and a script that
   * reaches Redis later takes nothing. A limiter's checks use the limiter's `timeoutMs` instead.
   * @default 100 (ms)
   */
  readonly timeoutMs?: number
}

/** One node of a Redis Cluster, as `Cluster.nodes('master')` lists it. */
export interface RedisNode {
  readonly options: { readonly host?: string; readonly port?: number }
  time(): Promise<readonly (number | string)[]>
}

/**
 * An ioredis `Redis` or `Cluster`, or an iovalkey client (the Valkey fork of ioredis): the
 * store never creates or closes it. Described by the members Sluice calls rather than imported
 * from ioredis, an optional peer: an app that keeps its buckets in memory has no ioredis, and
 * its type-check must not need one. The members a plain client or a cluster alone has are
 * optional. The script's command is defined on it at run time (`defineCommand`), under a
 * versioned name, and read back by that name.
 */
export interface IoRedisClient {
  readonly status: string
  /** `true` on a `Cluster`. */
  readonly isCluster?: boolean
  /** A cluster's slot table: each slot's nodes, master first, as `host:port`. */
  readonly slots?: readonly (readonly string[])[]
  /** A plain client's socket: one the server has half-closed is no longer writable. */
  readonly stream?: { readonly writable?: boolean }
  on(event: 'ready' | 'end', listener: () => void): unknown
  /** The store listens for errors to name their cause (which silences ioredis's "Unhandled error event" print). */
  on(event: 'error', listener: (error: unknown) => void): unknown
  defineCommand(name: string, definition: { lua: string }): void
  /** Connects a `lazyConnect` client (a check must never be its first command, queued offline). */
  connect(): Promise<void>
  del(...keys: string[]): Promise<unknown>
  /** Redis TIME: seconds and microseconds (a plain client's node clock). */
  time(): Promise<readonly (number | string)[]>
  /** A cluster's master nodes, whose clocks are read one by one. */
  nodes?(role: 'master'): readonly RedisNode[]
}

/** The arguments of node-redis's `eval` and `evalSha`. */
export interface NodeRedisScriptOptions {
  readonly keys: string[]
  readonly arguments: string[]
}

/**
 * A node-redis client (`createClient` from `redis` v5), connected by the app (`await
 * client.connect()`): the store never connects, creates or closes it. Described by the members
 * Sluice calls, like `IoRedisClient`. The script is run by its SHA (`evalSha`), and sent whole
 * (`eval`) only when Redis answers `NOSCRIPT`.
 */
export interface NodeRedisClient {
  readonly isOpen: boolean
  readonly isReady: boolean
  on(event: 'ready' | 'end', listener: () => void): unknown
  on(event: 'error', listener: (error: unknown) => void): unknown
  evalSha(sha: string, options: NodeRedisScriptOptions): Promise<unknown>
  eval(script: string, options: NodeRedisScriptOptions): Promise<unknown>
  del(keys: string[]): Promise<unknown>
  /** Redis TIME: seconds and microseconds. */
  time(): Promise<readonly (number | string)[]>
}

/** One master of a node-redis cluster, as `cluster.masters` and `cluster.slots[slot].master` list it. */
export interface NodeRedisClusterNode {
  readonly host: string
  readonly port: number
  /** Its connection, once made. */
  readonly client?: { readonly isReady: boolean }
}

/**
 * A node-redis cluster (`createCluster` from `redis` v5), connected by the app. Described by the
 * members Sluice calls, like `NodeRedisClient`; each call is routed by its first key.
 */
export interface NodeRedisCluster {
  readonly isOpen: boolean
  readonly masters: readonly NodeRedisClusterNode[]
  /** Each slot's shard, its master first. */
  readonly slots: readonly { readonly master: NodeRedisClusterNode }[]
  on(event: 'connect' | 'disconnect' | 'node-ready', listener: () => void): unknown
  on(event: 'error', listener: (error: unknown) => void): unknown
  evalSha(sha: string, options: NodeRedisScriptOptions): Promise<unknown>
  eval(script: string, options: NodeRedisScriptOptions): Promise<unknown>
  del(keys: string[]): Promise<unknown>
  /**
   * Its slot map (node-redis 5's, declared in its types): `rediscover` reads the map again from a
   * node. node-redis does so only on `MOVED`, which a dead master never sends.
   */
  readonly _slots?: { rediscover(startWith: never): Promise<void> }
  /** A master's own client, whose TIME is that node's clock. */
  nodeClient(node: NodeRedisClusterNode): Promise<{ time(): Promise<readonly (number | string)[]> }>
}

/**
 * The Redis client an app gives Sluice: an ioredis `Redis` or `Cluster`, an iovalkey client, or
 * a node-redis client or cluster. Its family is told apart once, when the store is made; a value that is
 * none of them is a coded option error (`ERR_SLUICE_INVALID_OPTION`).
 */
/**
 * A node-redis Sentinel client (`createSentinel` from `redis` v5), connected by the app: it asks
 * the Sentinels for the primary and moves to the new one on a failover (`topology-change`).
 */
export interface NodeRedisSentinel {
  readonly isOpen: boolean
  readonly isReady: boolean
  on(event: 'topology-change', listener: (event: { readonly type: string }) => void): unknown
  on(event: 'error', listener: (error: unknown) => void): unknown
  evalSha(sha: string, options: NodeRedisScriptOptions): Promise<unknown>
  eval(script: string, options: NodeRedisScriptOptions): Promise<unknown>
  del(keys: string[]): Promise<unknown>
  time(): Promise<readonly (number | string)[]>
  /** The primary it writes to now. */
  getMasterNode(): { readonly host: string; readonly port: number } | undefined
  /** A lease on a primary connection (what tells a Sentinel client apart from a plain one). */
  acquire(): Promise<unknown>
}

export type RedisClient = IoRedisClient | NodeRedisClient | NodeRedisCluster | NodeRedisSentinel

/** Which adapter speaks to a client (stores/clients/). */
export type ClientFamily = 'ioredis' | 'node-redis'

/**
 * What a RedisStore and its connection call, the same for every client family: one adapter per
 * family (stores/clients/) maps it onto that family's API. Internal.
 */
export interface StoreClient {
  readonly family: ClientFamily
  /** The app's client, as given. */
  readonly client: RedisClient
  readonly isCluster: boolean
  /**
   * `'ready'`; `'end'` (closed for good, or not open); `'wait'` (ioredis's `lazyConnect`:
   * `connect()` starts it); any other word: not ready now.
   */
  status(): string
  /** Ready, but the server has half-closed the socket and the client has not noticed yet. */
  halfClosed(): boolean
  /**
   * A cluster client whose connection to `node` is down while the others are up (a master that
   * died, before its replica takes its slots): a call to it would wait in that node's offline
   * queue. False only where the client says so (node-redis); the calls' deadlines cover the rest.
   * Asking prompts a node-redis cluster to read its slot map again (a dead master's replica may
   * own its slots by now).
   */
  nodeDown(node: string): boolean
  onReady(listener: () => void): void
  onEnd(listener: () => void): void
  /** The client's errors: why it cannot be used (listening also keeps an unheard `error` event from being printed or thrown). */
  onError(listener: (error: unknown) => void): void
  /** Connect a client that waits for its first command to (ioredis `lazyConnect`). */
  connect(): Promise<void>
  /** Run the token-bucket script by its SHA, sent whole only on `NOSCRIPT`. */
  runScript(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>
  del(keys: readonly string[]): Promise<unknown>
  /** The node that serves `slot` (`host:port` on a cluster, as far as the client knows), or `SINGLE_NODE`. */
  nodeOfSlot(slot: number): string
  /** The nodes whose clocks to read whenever the client (re)connects. */
  nodes(): readonly string[]
  /** TIME on `node`, or undefined if the client does not know that node (yet). */
  time(node: string): Promise<readonly (number | string)[]> | undefined
}

// Policies

/** A unit `refill` accepts: seconds, minutes, hours, days. */
export type RefillUnit = 's' | 'min' | 'h' | 'day'

/**
 * A refill rate as tokens per period: `'100/min'`, `'5/15min'`, `'1000/day'` (whole numbers;
 * units `s`, `min`, `h`, `day`).
 */
export type RefillRate = `${number}/${RefillUnit}` | `${number}/${number}${RefillUnit}`

/** What every policy has besides its rate. */
interface PolicyShape {
  /** Largest burst, in whole tokens (≥ 1). Required. */
  readonly capacity: number
  /**
   * The policy's name in the `RateLimit` / `RateLimit-Policy` headers and in its Redis keys:
   * 1–64 characters of `A-Z a-z 0-9 _ . -`. @default 'default'
   */
  readonly name?: string
  /** Measure and report (headers, logs, metrics) but never deny: for rolling out a new limit. @default false */
  readonly shadow?: boolean
}

/** One token bucket: its capacity, and its rate as `refillPerSecond` or as `refill` (one of them). */
export type PolicyOptions = PolicyShape &
  (
    | {
        /** Sustained rate in tokens per second (> 0, may be fractional such as 0.5). */
        readonly refillPerSecond: number
        readonly refill?: never
      }
    | {
        /** Sustained rate as tokens per period, `'100/min'` or `'5/15min'`: the same as `refillPerSecond: 100 / 60`, converted exactly. */
        readonly refill: RefillRate
        readonly refillPerSecond?: never
      }
  )

/** A policy in a list of several: each needs its own name. */
export type NamedPolicyOptions = PolicyOptions & { readonly name: string }

/**
 * An in-flight limit: at most `concurrency` requests of a client in progress at once, counted
 * from admission until the response ends (sent, aborted or failed). Each slot is a lease on the
 * store's clock, renewed while the response is open, so a crashed replica's slots come back
 * within `leaseMs`. Needs a store with leases (memory or Redis).
 */
export interface ConcurrencyPolicyOptions {
  /** The policy's name in the headers and its keys (1–64 of `A-Z a-z 0-9 _ . -`). Required. */
  readonly name: string
  /** Most requests of one client in progress at once (whole, 1 to 2^31). */
  readonly concurrency: number
  /**
   * How long a slot lives after its last renewal when nobody renews it (its replica crashed, froze
   * or lost its network): 1000 to 86 400 000 ms, renewed every leaseMs / 3 while the response is open.
   * @default 30_000
   */
  readonly leaseMs?: number
  readonly capacity?: never
  readonly refill?: never
  readonly refillPerSecond?: never
  readonly shadow?: never
}

/** A policy in a list: a named token bucket, or an in-flight limit. */
export type AnyPolicyOptions = NamedPolicyOptions | ConcurrencyPolicyOptions

/** Several policies, checked all or nothing, instead of one given inline. */
export interface SeveralPolicies {
  readonly policies: readonly AnyPolicyOptions[]
  readonly concurrency?: never
  readonly leaseMs?: never
  readonly capacity?: never
  readonly refill?: never
  readonly refillPerSecond?: never
  readonly name?: never
  readonly shadow?: never
}

/** Either one policy, inline, or several, checked all or nothing. */
export type PolicySource =
  | (PolicyOptions & {
      readonly concurrency?: never
      readonly leaseMs?: never
      readonly policies?: never
      readonly tiers?: never
      readonly tier?: never
    })
  | (ConcurrencyPolicyOptions & { readonly policies?: never; readonly tiers?: never; readonly tier?: never })
  | (SeveralPolicies & { readonly tiers?: never; readonly tier?: never })

/**
 * Plans: each tier its own policies, and a function that names a request's tier. A client's
 * buckets are per tier (an upgrade starts from a fresh bucket), and the headers describe the
 * request's tier.
 */
export interface TierSource<Req> {
  /** Tier name (1–64 of `A-Z a-z 0-9 _ . -`) → its policy, or several; a single policy is named after its tier unless it has a name. */
  readonly tiers: Readonly<
    Record<string, PolicyOptions | (Omit<ConcurrencyPolicyOptions, 'name'> & { readonly name?: string }) | readonly AnyPolicyOptions[]>
  >
  /** The request's tier, one of `tiers`' names; any other answer is a 500 for that request. */
  readonly tier: (request: Req) => string | Promise<string>
  readonly concurrency?: never
  readonly leaseMs?: never
  readonly capacity?: never
  readonly refill?: never
  readonly refillPerSecond?: never
  readonly name?: never
  readonly shadow?: never
  readonly policies?: never
}

/** A policy with every field resolved. */
export interface ResolvedPolicy {
  readonly name: string
  readonly capacity: number
  readonly refillPerSecond: number
  /** Nanoseconds per token, rounded once to a whole number. */
  readonly intervalNs: number
  /** Seconds a full bucket takes to refill from empty, rounded up: the draft's `w`. */
  readonly windowSeconds: number
  readonly shadow: boolean
  /** Token buckets have none: what tells them from an in-flight limit. */
  readonly concurrency?: never
}

/** An in-flight limit with every field resolved: at most `concurrency` open requests per client. */
export interface ResolvedConcurrencyPolicy {
  readonly name: string
  /** Most requests in progress at once per client (≥ 1). */
  readonly concurrency: number
  /** A slot lives this long from its last renewal, on the store's clock (≥ 1000). */
  readonly leaseMs: number
  /** In-flight limits always enforce. */
  readonly shadow: false
}

/** Either kind of resolved policy: a token bucket, or an in-flight limit (it has `concurrency`). */
export type AnyResolvedPolicy = ResolvedPolicy | ResolvedConcurrencyPolicy

// Options

/** How a request becomes a client identity. */
export type KeyOption<Req> =
  /** The client IP as the framework resolves it under its trust-proxy setting. */
  | 'ip'
  /**
   * An API key read from a request header (its first comma-separated value, trimmed), hashed
   * before it reaches the store. Without `verify`, a made-up key opens a fresh bucket: an
   * unverified header only limits honest clients.
   */
  | {
      readonly header: string
      /** What to do when the header is missing or empty, or its key fails `verify`. @default 'ip' */
      readonly missing?: 'ip' | 'reject'
      /** Whether the key is one the app issued; a key that fails counts as missing. */
      readonly verify?: ApiKeyVerifier<Req>
    }
  /**
   * Your own id for the request's client (hashed before it reaches the store, in a namespace of
   * its own), or a client reference keyed as that kind is: `{ ip }` exactly as `'ip'` (so
   * `(req) => req.headers['x-api-key'] ?? { ip: req.ip }` keeps IPv6 /64 grouping), `{ apiKey }`
   * as the header key is, `{ id }` as a string is.
   */
  | ((request: Req) => KeyFunctionAnswer | Promise<KeyFunctionAnswer>)

/** What a key function answers: an id of the app's own, or a client reference. */
export type KeyFunctionAnswer = string | { readonly ip: string | undefined } | { readonly apiKey: string } | { readonly id: string }

/** Tells a real API key from a made-up one; runs per request, so cache what it looks up. */
export type ApiKeyVerifier<Req> = (apiKey: string, request: Req) => boolean | Promise<boolean>

/** Tokens a request takes: a whole number ≥ 1, or a function of the request returning one. */
export type CostOption<Req> = number | ((request: Req) => number | Promise<number>)

/** Exempts a request: no check, no quota headers, `rateLimit` undefined on the request. */
export type SkipOption<Req> = (request: Req) => boolean | Promise<boolean>

/**
 * Clients that are not limited at all: addresses and CIDR ranges (`'10.0.0.0/8'`,
 * `'2001:db8::/32'`, `'203.0.113.7'`), matched against the request's client address as the
 * framework resolves it (never a trusted proxy's own address), or a function of the request,
 * which works as a `skip` that runs first.
 */
export type AllowListOption<Req> = readonly string[] | ((request: Req) => boolean | Promise<boolean>)

/** `allowList`, resolved: whether a request is exempt. */
export interface ResolvedAllowList<Req> {
  /** True for a list of addresses, whose matches depend on the trust-proxy setting. */
  readonly byAddress: boolean
  allows(request: Req, view: RequestView): boolean | Promise<boolean>
}

/**
 * Which quota headers to send: `'all'`, `'ietf'` (`RateLimit` and `RateLimit-Policy`),
 * `'legacy'` (`X-RateLimit-*`) or `'none'`. `Retry-After` goes with every 429 whatever the choice.
 */
export type HeaderFamilies = 'all' | 'ietf' | 'legacy' | 'none'

/**
 * Your own 429 or 403 body: an object is sent as JSON (`application/json`), a string as text
 * (or a promise of either, which is awaited); status and quota headers stay as they are. One
 * that throws, rejects, or answers what cannot be sent (neither an object nor a string, a BigInt
 * field, a cycle) gets the default body, and a `SLUICE_DENY_BODY_FAILED` warning.
 */
export type DenyBody<Req> = (result: RateLimitResult, request: Req) => unknown

/**
 * What to answer while the store fails:
 * - `local`: a bucket in this process sized to this replica's share (capacity and rate ÷ `replicas`);
 * - `allow`: admit everything, with no quota headers (nothing was measured);
 * - `deny`: refuse everything with 503 (not 429: the client did nothing wrong).
 */
export type FailureMode = 'local' | 'allow' | 'deny'

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 3 */
  readonly failureThreshold?: number
  /** First wait before probing an open circuit, in ms; doubles after each failed probe. @default 250 */
  readonly cooldownMs?: number
  /** Longest wait between probes, in ms. @default 4_000 */
  readonly maxCooldownMs?: number
}

/**
 * The actual cost of a request, once its response has ended (sent in full, aborted by the
 * client, or failed in the handler): a whole number ≥ 0 of tokens, or undefined to keep the
 * reservation (`cost`). `reply` is the framework's (Fastify's reply, Express's `res`).
 */
export type SettleOption<Req, Rep = unknown> = (request: Req, reply: Rep) => number | undefined | Promise<number | undefined>

/** Options shared by every adapter, apart from the policies. */
export interface CommonLimiterOptions<Req, Rep = unknown> {
  /**
   * The Redis client shared by all replicas: an ioredis `Redis` or `Cluster`, an iovalkey client, or
   * a node-redis client (`createClient`). Omit to keep buckets in memory (one process).
   */
  readonly redis?: RedisClient
  /** A custom store; takes precedence over `redis`. */
  readonly store?: Store
  /** How requests are grouped into buckets. @default 'ip' */
  readonly key?: KeyOption<Req>
  /** Tokens per request. @default 1 */
  readonly cost?: CostOption<Req>
  /** Requests for which this returns true are not limited at all (health checks). */
  readonly skip?: SkipOption<Req>
  /**
   * The request's actual cost, asked once its response has ended: `cost` is then a reservation,
   * and the difference (refund or extra charge, into debt of at most a bucket's capacity) is
   * applied to every bucket its check took from. See docs/settle.md. @default none: `cost` is final
   */
  readonly settle?: SettleOption<Req, Rep>
  /**
   * `false`: opt-in limiting. Only routes that ask for a limit (Fastify `config.rateLimit`, Express
   * `limit.route(id, override)`, `{}` for the limiter's own policies) and manual checks are
   * limited; every other request, unmatched ones (404s) included, passes unchecked.
   * @default true
   */
  readonly global?: boolean
  /**
   * Clients that are not limited at all, checked before `skip`: IPs and CIDR ranges, or a
   * function of the request. An allow-listed request is not checked and gets no quota headers.
   */
  readonly allowList?: AllowListOption<Req>
  /** Which quota headers to send. @default 'all' */
  readonly headers?: HeaderFamilies
  /** The body of a 429 or 403 answer. @default an RFC 9457 problem (`application/problem+json`) */
  readonly denyBody?: DenyBody<Req>
  /**
   * `'error'`: a refused request is not answered by Sluice but passed to the app's error handler
   * as a `SluiceDeniedError` (its quota headers set first, `statusCode` the status Sluice would
   * send), so the app's own error envelope is used, as with @fastify/rate-limit's
   * `errorResponseBuilder`. @default 'send'
   */
  readonly onDeny?: 'send' | 'error'
  /** Namespace of this limiter's Redis keys; no `{` or `}`. @default 'sluice:' */
  readonly prefix?: string
  /** IPv6 addresses are grouped by this prefix length (1–128). @default 64 */
  readonly ipv6Subnet?: number
  /** Most buckets an in-memory store keeps (the default store, and the local failure buckets). @default 100_000 */
  readonly memoryMaxKeys?: number
  /** Time budget of one store call, in ms; past it the request is answered by `failureMode`. @default 100 */
  readonly timeoutMs?: number
  /** What to answer while the store is failing or slow. @default 'local' */
  readonly failureMode?: FailureMode
  /** How many replicas share the store: local failure buckets get 1/replicas of capacity and rate. @default 1 */
  readonly replicas?: number
  /** When to stop calling a failing store, and how often to probe it. */
  readonly circuitBreaker?: CircuitBreakerOptions
  /**
   * Where degraded-mode and shadow warnings go (pino-compatible); adapters pass the framework's
   * logger. @default process warnings (`process.emitWarning`, code `SLUICE_WARNING`)
   */
  readonly logger?: SluiceLogger
  /** Hooks for metrics, e.g. `createMetrics(promClient)` from `@sluice/core/metrics` (Prometheus). */
  readonly observer?: SluiceObserver
}

/**
 * Options shared by every adapter: one policy (`capacity`, `refill` or `refillPerSecond`, `name`) or
 * several (`policies`), checked all or nothing.
 */
export type LimiterOptions<Req, Rep = unknown> = CommonLimiterOptions<Req, Rep> & (PolicySource | TierSource<Req>)

/**
 * A per-route override. Setting `capacity`, `refill`, `refillPerSecond`, `name` or `policies` gives the
 * route buckets of its own; a `cost`- or `key`-only override draws from the limiter's buckets.
 */
export type RouteLimitOptions<Req, Rep = unknown> = {
  readonly key?: KeyOption<Req>
  readonly cost?: CostOption<Req>
  /** Replaces the limiter's `skip` on this route. */
  readonly skip?: SkipOption<Req>
  /** Replaces the limiter's `settle` on this route. */
  readonly settle?: SettleOption<Req, Rep>
} & (
  | (Partial<PolicyOptions> & { readonly concurrency?: never; readonly leaseMs?: never; readonly policies?: never })
  | (ConcurrencyPolicyOptions & { readonly policies?: never })
  | SeveralPolicies
)

/** The resolved, frozen options; nothing downstream re-checks them. */
export interface ResolvedLimiterOptions<Req> {
  readonly store: Store
  /** One or more policies; a request is checked against all of them at once. With tiers, the first tier's. */
  readonly policies: readonly AnyResolvedPolicy[]
  /** Each tier's policies, when the limiter has tiers. */
  readonly tiers: ReadonlyMap<string, readonly AnyResolvedPolicy[]> | undefined
  readonly tier: ((request: Req) => string | Promise<string>) | undefined
  readonly key: KeyOption<Req>
  readonly cost: CostOption<Req>
  readonly skip: SkipOption<Req> | undefined
  readonly settle: SettleOption<Req> | undefined
  /** Whether a request with no route override of its own is limited. */
  readonly global: boolean
  readonly allowList: ResolvedAllowList<Req> | undefined
  readonly headers: HeaderFamilies
  readonly denyBody: DenyBody<Req> | undefined
  readonly onDeny: 'send' | 'error'
  readonly prefix: string
  readonly ipv6Subnet: number
  readonly memoryMaxKeys: number
  readonly timeoutMs: number
  readonly failureMode: FailureMode
  readonly replicas: number
  readonly circuitBreaker: Required<CircuitBreakerOptions>
  readonly logger: SluiceLogger
  readonly observer: SluiceObserver | undefined
}

/** The resolved options as the limiter holds them: with its store's door (internal, not on any entry). */
export interface ResolvedOptions<Req> extends ResolvedLimiterOptions<Req> {
  readonly door: StoreDoor
}

/** A client, as an operator names it: by address, API key, or key-function id. */
export type ClientRef = { readonly ip: string } | { readonly apiKey: string } | { readonly id: string }

/**
 * What an app can do with its limiter besides limiting routes: `fastify.sluice`, and the Express
 * middleware's own methods. A frozen object of its own, apart from the limiter an adapter holds.
 */
export interface LimiterControls<Req> {
  /** Counters for metrics: answers by source, store errors, the circuit's state, shadow denials, unknown IPs. */
  stats(): SluiceStats
  /**
   * Every bucket of `client` under this limiter's prefix starts full again: in the store, in this
   * replica's failure-mode buckets and deny cache (other replicas' deny caches agree within about
   * a second). Rejects with `ERR_SLUICE_STORE_UNAVAILABLE` while the store is.
   */
  reset(client: ClientRef): Promise<void>
  /** Where `client` stands in the limiter's own policies (its `tier`'s, with tiers), taking nothing. */
  peek(client: ClientRef & { readonly tier?: string }): Promise<RateLimitResult>
  /**
   * A check from a handler, by a key only it knows (login attempts per username): the same
   * buckets semantics, store, failure mode and coalescing as the middleware; `tier()` applies,
   * `skip` does not; nothing is sent. Rejects with `ERR_SLUICE_STORE_UNAVAILABLE` when the store
   * is unavailable and the failure mode is `allow` or `deny` (no bucket was measured).
   */
  check(request: Req, options: ManualCheckOptions): Promise<RateLimitResult>
  /**
   * Settle an admitted `result` (from `check()`, or `request.rateLimit`) at its actual cost, a
   * whole number ≥ 0 of tokens: `actualCost − result.cost` is given back to, or charged beyond
   * empty on, every bucket its check took from, at once. A result settles once: a second call
   * throws `ERR_SLUICE_ALREADY_SETTLED`, a result this limiter did not give (or a copy of one)
   * `ERR_SLUICE_INVALID_ARGUMENT`; a settled `request.rateLimit` is not settled again by the
   * `settle` option. Resolves once applied or dropped: a store failure is counted in `stats()`
   * and warned, never a rejection.
   */
  settle(result: RateLimitResult, actualCost: number): Promise<void>
  /**
   * Take an in-flight slot from a handler, by a key only it knows (three exports per user at
   * once): `allowed` says whether a slot was free; `release()` gives it back (idempotent, never
   * rejects), and the lease renews until then. The slot is the policy's, or the limiter's own
   * concurrency policy's (its tier's, with tiers); nothing else is taken. Rejects like `check`.
   */
  acquire(request: Req, options: ManualAcquireOptions): Promise<Acquired>
}

/** `acquire(request, options)`: the key to count by, and the in-flight limit. */
export interface ManualAcquireOptions {
  /** What to limit by: hashed, in the same namespace as a manual check's key. */
  readonly key: string
  /** The in-flight limit; validated on first use. @default the limiter's own concurrency policy */
  readonly policy?: ConcurrencyPolicyOptions
}

/** What `acquire` answers. */
export interface Acquired {
  readonly allowed: boolean
  readonly result: RateLimitResult
  /** Give the slot back (a refused acquire's does nothing): idempotent, never rejects. */
  release(): Promise<void>
}

/** How one in-flight limit saw the request. */
export interface SlotResult extends SlotReply {
  readonly policy: ResolvedConcurrencyPolicy
  /** The store key of its slot set. */
  readonly key: string
}

/** What one request is checked against: its policies, their buckets' ids, and their constant header. */
export interface Binding {
  /** The token-bucket policies. */
  readonly policies: readonly ResolvedPolicy[]
  readonly bucketIds: readonly string[]
  /** The in-flight limits, and their slot sets' ids (`c:<bucket id>`). */
  readonly slots: readonly ResolvedConcurrencyPolicy[]
  readonly slotIds: readonly string[]
  readonly policyHeader: string
}

/** A one-off limit from a handler (`check(request, options)`): login attempts per username, say. */
export interface ManualCheckOptions {
  /** What to limit by: hashed, in a namespace of its own (never a key function's bucket of the same string). */
  readonly key: string
  /** Tokens to take. @default 1 */
  readonly cost?: number
  /**
   * The bucket's policy; validated on first use, unknown fields refused. Its buckets are its own,
   * never the limiter's or a route's of the same name. @default the limiter's own policies (its tier's, with tiers)
   */
  readonly policy?: NamedPolicyOptions
}

// Results and decisions

/** How one policy saw the request. */
export interface PolicyResult extends BucketReply {
  readonly policy: ResolvedPolicy
  /** The store key of its bucket (hashed where it came from a secret). */
  readonly key: string
}

/**
 * The outcome of one rate-limit check, as handlers read it on the request. The top-level
 * numbers are those of the binding policy: the one that denied with the longest wait, or, when
 * admitted, the enforcing one with the fewest tokens left.
 */
export interface RateLimitResult {
  /** True when the request was admitted. */
  readonly allowed: boolean
  /** `allowed`; `denied` (retry later); or `cost-exceeds-capacity` (no retry can succeed). */
  readonly status: CheckStatus
  /**
   * The binding policy: a token bucket's whenever the request has one, else (only in-flight
   * limits) the in-flight limit that refused it, or the one with the fewest free slots.
   */
  readonly policy: AnyResolvedPolicy
  /** The binding policy's capacity, or an in-flight limit's `concurrency` (the `X-RateLimit-Limit` value). */
  readonly limit: number
  /** Whole tokens left in the binding policy's bucket after this request (the `X-RateLimit-Remaining` value). */
  readonly remaining: number
  /** `limit − remaining`: what @fastify/rate-limit and express-rate-limit call `used` (tokens, not requests). */
  readonly used: number
  /**
   * When the binding policy's bucket is full again, for display (express-rate-limit's `resetTime`):
   * `resetMs` from now on this server's clock. Decisions never read it; they use the store's clock.
   */
  readonly resetTime: Date
  /** Milliseconds until the request could be admitted: the longest wait among the violated policies. */
  readonly retryAfterMs: number
  readonly resetMs: number
  readonly nextTokenMs: number
  /** Tokens this request asked for. */
  readonly cost: number
  /** The binding policy's store key. */
  readonly key: string
  /**
   * True when the shared store was unavailable and this replica's local buckets answered; the
   * policies (and the headers) then describe those local buckets.
   */
  readonly degraded: boolean
  /** Every token-bucket policy, shadow ones included, in configuration order. */
  readonly policies: readonly PolicyResult[]
  /** Every in-flight limit, in configuration order (empty when the request has none). */
  readonly slots: readonly SlotResult[]
  /** Names of the enforcing policies that denied the request. */
  readonly violated: readonly string[]
}

/** What the limiter needs to know about a request, whatever the framework. */
export interface RequestView {
  /**
   * The client address as the framework resolved it under its trust-proxy setting; undefined
   * when there is none, or when it is an address that setting trusts as a proxy (a gateway that
   * named no client is no client).
   */
  readonly ip: string | undefined
  /** A request header's value (lower-case name); undefined when absent. */
  header(name: string): string | string[] | undefined
  /** Why `ip` cannot be trusted to tell clients apart, for the warnings; absent when nothing is wrong. */
  readonly address?: AddressNote
}

/**
 * What is wrong with a request's address, as the adapter found it: the resolved address is a
 * trusted proxy's own (`ip` is then undefined), or X-Forwarded-For came from a peer the
 * trust-proxy setting refuses (so every client behind that peer shares its address).
 * `setting` names the framework's setting as the user writes it.
 */
export type AddressNote =
  | { readonly kind: 'trusted-proxy'; readonly proxy: string; readonly setting: string }
  | { readonly kind: 'untrusted-forwarded-for'; readonly peer: string; readonly setting: string }

/** A refusal, ready to send: the status, the content type and the serialized body. */
export interface Denial {
  readonly status: number
  readonly contentType: string
  readonly body: string
}

/** An RFC 9457 problem details object, sent as `application/problem+json`. */
export interface ProblemDetails {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly 'violated-policies'?: readonly string[]
  /** 429 and 403: the tokens the request asked for (the quota headers count tokens, not requests). */
  readonly cost?: number
}

/** Where an answer came from. */
export type AnswerSource = 'store' | FailureMode

/**
 * What an adapter does with a request: set `headers`, and when `deny` is set, answer with it;
 * when `onEnd` is set, call it once the response has ended (its `onResponseEnd`).
 */
export interface Decision<Req = unknown, Rep = unknown> {
  /** Undefined when no bucket was checked (a missing API key, or the `allow`/`deny` failure modes). */
  readonly result: RateLimitResult | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly deny: Denial | undefined
  /** Where the answer came from: the store, or a failure mode. */
  readonly source: AnswerSource
  /** What happened, in one word, for logs and metrics. */
  readonly outcome: Outcome
  /**
   * What to do once the response has ended (end-steps.ts: a settle; room for more), for an
   * admitted request that has anything to do; undefined otherwise, so no listener is attached.
   * Never throws. (An in-flight slot's release is one of its steps.)
   */
  onEnd?(request: Req, reply: Rep): void
  /**
   * Present when the request took in-flight slots: the same release as `onEnd`'s step, for code
   * that wants to await it (idempotent, never rejects).
   */
  readonly release?: () => Promise<void>
}

export type Outcome = 'allowed' | 'denied' | 'cost-exceeds-capacity' | 'missing-key' | 'unavailable'

// Logging, observing, counting

/** The part of a pino-style logger Sluice uses. */
export interface SluiceLogger {
  warn(object: object, message: string): void
  /** When present, the one start-up line: the store was reached, or is failing and why. */
  info?(object: object, message: string): void
}

/** One checked request, as an observer sees it. */
export interface DecisionEvent {
  /** The route the check ran on (`GET /search`), or `*` for middleware mounted without one. */
  readonly route: string
  readonly decision: Decision
}

/** One store call, timed from the request's point of view (coalescing wait included). */
export interface StoreCallEvent {
  readonly store: string
  /** The route whose check made the call, as `DecisionEvent.route` names it (`manual` for `limiter.check`), to tie a span to its request. */
  readonly route: string
  readonly seconds: number
  readonly outcome: 'ok' | 'error' | 'timeout'
}

/**
 * Hooks for metrics and tracing. They run synchronously on the request path, so keep them
 * cheap; an observer that throws is ignored rather than failing the request.
 */
export interface SluiceObserver {
  decision?(event: DecisionEvent): void
  storeCall?(event: StoreCallEvent): void
  /** A request `skip` exempted: no check, no decision. */
  skipped?(event: SkippedEvent): void
  /** The circuit breaker changed state (and once at start, `closed`, for a store that can fail). */
  circuit?(event: CircuitEvent): void
  /** A request's cost was settled after its response (applied, or dropped unapplied). */
  settle?(event: SettleEvent): void
}

/** One settle of a request's cost (the `settle` option, or `settle(result, actualCost)`). */
export interface SettleEvent {
  /** The route, as `DecisionEvent.route` names it (`manual` for a manual check's result). */
  readonly route: string
  /** `applied`: the buckets now reflect the actual cost; `dropped`: the store failed, the reservation stands. */
  readonly outcome: 'applied' | 'dropped'
  /** Tokens given back per bucket (actual < cost), else 0. */
  readonly refundedTokens: number
  /** Tokens charged beyond the reservation per bucket (actual > cost), else 0. */
  readonly extraTokens: number
}

/** A request `skip` exempted. */
export interface SkippedEvent {
  /** The route, as `DecisionEvent.route` names it. */
  readonly route: string
}

/**
 * A store's circuit state changed: its worst node's breaker (a Cluster has one per master), so
 * `open` while any node's circuit is open, `half-open` while one probes and none is open.
 */
export interface CircuitEvent {
  /** The store the breakers guard (its kind: `redis`, or a custom store's). */
  readonly store: string
  readonly state: BreakerState
}

/** Counters an app can read (and export as metrics). */
export interface LimiterStats {
  /** Checks answered by the store. */
  readonly storeAnswers: number
  /** Checks answered by the failure mode instead. */
  readonly degradedAnswers: number
  /** Store calls that failed or timed out. */
  readonly storeErrors: number
  readonly circuit: BreakerState
}

/** Counters for metrics. */
export interface SluiceStats extends LimiterStats {
  /** Requests `skip` exempted (no check). */
  readonly skipped: number
  /** Requests a shadow policy would have denied (they were not denied). */
  readonly shadowDenials: number
  /**
   * Requests with no usable client address, checked against the one shared `unknown` bucket
   * (see the `SLUICE_UNKNOWN_IP` warning).
   */
  readonly unknownIp: number
  /** Settles applied to the buckets (the `settle` option's and `settle()`'s, a zero difference included). */
  readonly settlesApplied: number
  /** Settles that could not be applied (the store failed or was too slow): their reservations stand. */
  readonly settlesDropped: number
  /** `settle` functions that threw, rejected or returned nonsense (`SLUICE_SETTLE_FAILED`): their reservations stand. */
  readonly settlesFailed: number
  /** Tokens given back by applied settles, summed over requests (per request, the difference; not per bucket). */
  readonly settleRefundedTokens: number
  /** Tokens charged beyond reservations by applied settles, summed over requests. */
  readonly settleExtraTokens: number
  /** In-flight leases this process holds open now (taken, not yet released): renewed while open. */
  readonly leasesOpen: number
  /** In-flight leases released (each once), since the limiter was made. */
  readonly leasesReleased: number
  /** In-flight leases found expired while still open (`SLUICE_LEASE_LOST`). */
  readonly leasesLost: number
}
