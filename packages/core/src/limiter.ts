import { type BucketClaim, BucketClaims } from './bucket-claims.js'
import { denialFor } from './deny-body.js'
import { ErrorCodes, SluiceError } from './errors.js'
import { budgetedCheck, Failover, type GuardedReply, type PolicyCheck } from './failover.js'
import { policyHeader, rateLimitHeaders } from './headers.js'
import {
  apiKeyClientId,
  bucketKey,
  customClientId,
  ipClientId,
  manualBucketId,
  manualClientId,
  routeBucketId,
  UNKNOWN_IP_ID,
} from './keys.js'
import { notify } from './observer.js'
import { checkedCost, ROUTE_OPTION_NAMES, resolveCost, resolveFunction, resolveKey, resolveLimiterOptions } from './options.js'
import { POLICY_KEYS, resolvePolicies, resolvePolicy } from './policies.js'
import { LIMITER_UNAVAILABLE, missingApiKey, problemDenial } from './problem.js'
import { badValue, callRequestFunction } from './request-functions.js'
import { checkedReply } from './store-reply.js'
import { MemoryStore } from './stores/memory-store.js'
import { summarize } from './summarize.js'
import { withTimeout } from './timeout.js'
import { keysByIp } from './trust-proxy.js'
import type {
  BudgetedStore,
  ClientRef,
  CostOption,
  Decision,
  KeyOption,
  LimiterOptions,
  LimiterStats,
  ManualCheckOptions,
  RateLimitResult,
  RequestView,
  ResolvedLimiterOptions,
  ResolvedPolicy,
  RouteLimitOptions,
  SkipOption,
  SluiceLogger,
  SluiceStats,
} from './types.js'
import { assertKnownOptions, assertPlainObject, isPlainObject } from './validate.js'
import { type WarningCode, WarningCodes, WarnOnce, WarnThrottle } from './warnings.js'

/** The policies bound to a route: checks a request against their buckets, all or nothing. */
export interface RouteLimiter<Req> {
  /** The route's policies (with tiers and no policies of its own, the first tier's). */
  readonly policies: readonly ResolvedPolicy[]
  /** Whether this route's key can end up being the client IP (so the trust-proxy setting matters). */
  readonly keysByIp: boolean
  /** The decision for a request; undefined when `skip` exempted it (no check, nothing to send). */
  check(request: Req, view: RequestView): Promise<Decision | undefined>
}

export interface Limiter<Req> {
  readonly options: ResolvedLimiterOptions<Req>
  /**
   * Bind the limiter to a route. `config` is the route's own setting: undefined for the
   * limiter's policies, `false` to exempt the route (returns null), or an override. `method` and
   * `url` identify the route (its own buckets are named after them, and metrics label it); pass
   * `'*', '*'` for a limiter that is not bound to one route, or `''` and an id of your own.
   */
  forRoute(config: RouteLimitOptions<Req> | false | undefined, method: string, url: string): RouteLimiter<Req> | null
  /** Counters for metrics: answers by source, store errors, the circuit's state, shadow denials, unknown IPs. */
  stats(): SluiceStats
  /** Log a coded warning once for this limiter: for the misconfigurations an adapter detects. */
  warnOnce(code: WarningCode, details: object, message: string): void
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
   * Give back this limiter's claims on its buckets' ids (see bucket-claims.ts), so that another
   * limiter on the same client and prefix may use them with other numbers: an adapter calls it
   * when its app closes. A limiter that is never closed gives them back when it is collected.
   */
  close(): void
}

/** What one request is checked against: its policies, their buckets' ids, and their constant header. */
interface Binding {
  readonly policies: readonly ResolvedPolicy[]
  readonly bucketIds: readonly string[]
  readonly policyHeader: string
}

interface Checker {
  check(request: PolicyCheck): Promise<GuardedReply>
  stats(): LimiterStats
  /** The local failure-mode buckets, whose client an operator may reset. */
  readonly local: MemoryStore | undefined
}

/** An in-process store cannot fail, so it needs no guard; any other store gets one. */
function checkerFor(options: ResolvedLimiterOptions<unknown>): Checker {
  const { store } = options
  if (store instanceof MemoryStore) {
    let answers = 0
    return {
      check(request) {
        answers++
        return Promise.resolve({ reply: store.checkSync(request), policies: request.policies, source: 'store' })
      },
      stats: () => ({ storeAnswers: answers, degradedAnswers: 0, storeErrors: 0, circuit: 'closed' }),
      local: undefined,
    }
  }
  const failover = new Failover(store, {
    observer: options.observer,
    timeoutMs: options.timeoutMs,
    mode: options.failureMode,
    replicas: options.replicas,
    circuitBreaker: options.circuitBreaker,
    logger: options.logger,
    localMaxKeys: options.memoryMaxKeys,
  })
  return { check: (request) => failover.check(request), stats: () => failover.stats, local: failover.local }
}

/** Bound on the distinct policies handlers may name in manual checks. */
const MAX_MANUAL_POLICIES = 1_000

/** What every route of one limiter shares. */
interface Shared<Req> {
  readonly options: ResolvedLimiterOptions<Req>
  readonly checker: Checker
  readonly once: WarnOnce
  readonly shadow: WarnThrottle
  readonly denyBodyFailed: WarnThrottle
  /** Every bucket id any route of this limiter checks: what a reset deletes. */
  readonly bucketIds: Set<string>
  /** This limiter's claims on its bucket ids' shapes, among every limiter on the same store. */
  readonly claims: BucketClaims
  shadowDenials: number
  unknownIp: number
}

/**
 * Policies and their buckets' ids, claimed for this shape (an option error when another limiter
 * or route on the same store and prefix checks one of those ids with other numbers).
 * `optionOf(i)` names policy `i`'s option as the user wrote it, for that error.
 */
function bind(
  shared: Shared<unknown>,
  policies: readonly ResolvedPolicy[],
  bucketIds: readonly string[],
  optionOf: (i: number) => string,
): Binding {
  shared.claims.claim(policies.map((policy, i): BucketClaim => ({ bucketId: bucketIds[i]!, policy, option: optionOf(i) })))
  for (const id of bucketIds) shared.bucketIds.add(id)
  return Object.freeze({ policies, bucketIds, policyHeader: policyHeader(policies) })
}

/**
 * Validate options once and build the limiter. `adapterOptions` names the options the adapter
 * reads itself; `fallbackLogger` is where warnings go when no `logger` option is given.
 */
export function createLimiter<Req>(
  input: LimiterOptions<Req>,
  adapterOptions: readonly string[] = [],
  fallbackLogger?: SluiceLogger,
): Limiter<Req> {
  const options = resolveLimiterOptions<Req>(input, adapterOptions, fallbackLogger)
  const base = {
    options,
    checker: checkerFor(options as ResolvedLimiterOptions<unknown>),
    once: new WarnOnce(options.logger),
    shadow: new WarnThrottle(options.logger, WarningCodes.SHADOW_DENIAL),
    denyBodyFailed: new WarnThrottle(options.logger, WarningCodes.DENY_BODY_FAILED),
    bucketIds: new Set<string>(),
    shadowDenials: 0,
    unknownIp: 0,
  }
  // Every route holds `shared`: once it is collected, no check can reach its buckets any more.
  const shared: Shared<Req> = Object.assign(base, { claims: new BucketClaims(options.store, options.prefix, base) })
  const share = shared as Shared<unknown>
  let own: Binding | ReadonlyMap<string, Binding>
  try {
    own = ownBinding(share, input as unknown as Record<string, unknown>)
  } catch (error) {
    shared.claims.release()
    throw error
  }
  const whole = bindRoute(shared, '*', own, options.key, options.cost, options.skip)

  const manual = manualChecks(shared, own)
  return {
    options,
    stats: () => ({ ...shared.checker.stats(), shadowDenials: shared.shadowDenials, unknownIp: shared.unknownIp }),
    warnOnce: (code, details, message) => shared.once.warn(code, details, message),
    forRoute(config, method, url) {
      if (config === false) return null
      const label = method === '' ? url : `${method} ${url}`
      if (config === undefined) {
        return method === '*' ? whole : bindRoute(shared, label, own, options.key, options.cost, options.skip)
      }
      assertPlainObject(config, 'config.rateLimit')
      assertKnownOptions(config, ROUTE_OPTION_NAMES, 'config.rateLimit.')
      const binding = routeBinding(share, config, method, url) ?? own
      const key = config.key === undefined ? options.key : resolveKey<Req>(config.key, 'config.rateLimit.key')
      const fits = isBinding(binding) ? binding.policies : [...binding.values()].flatMap((b) => b.policies)
      const cost =
        config.cost === undefined
          ? resolveCost<Req>(options.cost, 'cost', fits)
          : resolveCost<Req>(config.cost, 'config.rateLimit.cost', fits)
      const skip =
        config.skip === undefined
          ? options.skip
          : resolveFunction<SkipOption<Req>>(config.skip, 'config.rateLimit.skip', '(request) => boolean')
      return bindRoute(shared, label, binding, key, cost, skip)
    },
    reset: (client) => manual.reset(client),
    peek: (client) => manual.peek(client),
    check: (request, checkOptions) => manual.check(request, checkOptions),
    close: () => shared.claims.release(),
  }
}

/**
 * The limiter's own policies: in buckets named after them, and with tiers after the tier too,
 * so an upgrade starts from a fresh bucket. `input` is what the user wrote, to name an option.
 */
function ownBinding(shared: Shared<unknown>, input: Record<string, unknown>): Binding | ReadonlyMap<string, Binding> {
  const { options } = shared
  if (options.tiers === undefined) {
    const several = input.policies !== undefined
    return bind(
      shared,
      options.policies,
      options.policies.map((p) => p.name),
      (i) => (several ? `policies[${i}].name` : 'name'),
    )
  }
  const tiers = input.tiers as Record<string, unknown>
  return new Map(
    [...options.tiers].map(([tier, policies]) => {
      const several = Array.isArray(tiers[tier])
      return [
        tier,
        bind(
          shared,
          policies,
          policies.map((p) => `${tier}/${p.name}`),
          (i) => (several ? `tiers.${tier}[${i}].name` : `tiers.${tier}.name`),
        ),
      ]
    }),
  )
}

/**
 * A route override's own policies, in buckets named after the route; undefined for an override
 * of the key, cost or skip only, which draws from the limiter's buckets. A partial policy takes
 * the rest from the limiter's first.
 */
function routeBinding(
  shared: Shared<unknown>,
  config: RouteLimitOptions<never> & Record<string, unknown>,
  method: string,
  url: string,
): Binding | undefined {
  if (![...POLICY_KEYS, 'policies'].some((k) => config[k] !== undefined)) return undefined
  const first = shared.options.policies[0]!
  const policies = resolvePolicies(
    config.policies !== undefined
      ? config
      : {
          capacity: config.capacity ?? first.capacity,
          refillPerSecond: config.refillPerSecond ?? first.refillPerSecond,
          name: config.name ?? first.name,
          shadow: config.shadow,
        },
    'config.rateLimit.',
  )
  return bind(
    shared,
    policies,
    policies.map((p) => routeBucketId(p.name, method, url)),
    (i) => (config.policies !== undefined ? `config.rateLimit.policies[${i}].name` : 'config.rateLimit.name'),
  )
}

function isBinding(binding: Binding | ReadonlyMap<string, Binding>): binding is Binding {
  return !(binding instanceof Map)
}

function bindRoute<Req>(
  shared: Shared<Req>,
  route: string,
  binding: Binding | ReadonlyMap<string, Binding>,
  key: KeyOption<Req>,
  cost: CostOption<Req>,
  skip: SkipOption<Req> | undefined,
): RouteLimiter<Req> {
  const { options } = shared
  const fixed = isBinding(binding) ? binding : undefined
  const tiers = isBinding(binding) ? undefined : binding
  warnIfUnverified(shared, key)
  const observe = (decision: Decision): Decision => {
    notify(options.observer, 'decision', { route, decision })
    return decision
  }

  return {
    policies: fixed?.policies ?? options.policies,
    keysByIp: keysByIp(key as KeyOption<never>),
    // Every request function may be synchronous or not: each is awaited only when it returned a
    // promise, since an await per request is not free.
    async check(request, view) {
      if (skip !== undefined) {
        const skipped = callRequestFunction('skip', () => skip(request), checkedBoolean('skip'))
        if (typeof skipped === 'boolean' ? skipped : await skipped) return undefined
      }
      const client = resolveClientId(shared, key, request, view)
      const clientId = typeof client === 'object' ? await client : client
      if (clientId === undefined) {
        const problem = problemDenial(missingApiKey((key as { header: string }).header))
        return observe({ result: undefined, headers: {}, deny: problem, source: 'store', outcome: 'missing-key' })
      }
      const chosen = fixed ?? tierOf(options, tiers!, request)
      const using = chosen instanceof Promise ? await chosen : chosen
      const counted = typeof cost === 'number' ? cost : callRequestFunction('cost', () => cost(request), checkedCost)
      const tokens = typeof counted === 'number' ? counted : await counted
      const { result, source } = await measure(shared, clientId, using, tokens)
      if (result === undefined) {
        // `allow` and `deny` failure modes measured nothing, so they claim no quota.
        return observe(
          source === 'deny'
            ? { result: undefined, headers: {}, deny: LIMITER_UNAVAILABLE, source, outcome: 'unavailable' }
            : { result: undefined, headers: {}, deny: undefined, source, outcome: 'allowed' },
        )
      }
      // Local shares are other policies than the route's, so their header is built afresh.
      const constant = source === 'store' ? using.policyHeader : undefined
      const headers = rateLimitHeaders(result, options.headers, constant)
      const refusal = result.allowed ? undefined : denialFor(options.denyBody, shared.denyBodyFailed, result, request)
      return observe({
        result,
        headers,
        deny: refusal instanceof Promise ? await refusal : refusal,
        source,
        outcome: result.status,
      })
    },
  }
}

/** One check of a client's buckets through the store (or the failure mode), summarized. */
async function measure<Req>(
  shared: Shared<Req>,
  clientId: string,
  binding: Binding,
  tokens: number,
): Promise<{ result: RateLimitResult | undefined; source: GuardedReply['source'] }> {
  const { prefix } = shared.options
  const keys = binding.bucketIds.map((id) => bucketKey(prefix, clientId, id))
  const answer = await shared.checker.check({ keys, policies: binding.policies, cost: tokens })
  if (answer.reply === undefined) return { result: undefined, source: answer.source }
  const result = summarize(answer.reply, answer.policies, keys, tokens, answer.source !== 'store')
  for (const p of result.policies) {
    if (p.policy.shadow && p.status !== 'allowed') {
      shared.shadowDenials++
      shared.shadow.warn(
        { policy: p.policy.name, key: p.key, shadowDenials: shared.shadowDenials },
        `@sluice: shadow policy "${p.policy.name}" would have denied a request`,
      )
    }
  }
  return { result, source: answer.source }
}

function tierOf<Req>(options: ResolvedLimiterOptions<Req>, tiers: ReadonlyMap<string, Binding>, request: Req): Binding | Promise<Binding> {
  const check = (name: unknown): Binding => {
    const binding = typeof name === 'string' ? tiers.get(name) : undefined
    if (binding === undefined) throw badValue('tier', `one of ${[...tiers.keys()].map((t) => `'${t}'`).join(', ')}`, name)
    return binding
  }
  return callRequestFunction('tier', () => options.tier!(request), check)
}

function warnIfUnverified<Req>(shared: Shared<Req>, key: KeyOption<Req>): void {
  if (typeof key !== 'object' || key.verify !== undefined) return
  shared.once.warn(
    WarningCodes.UNVERIFIED_API_KEY,
    { header: key.header },
    `@sluice: API keys are read from the "${key.header}" header but never verified, so a client can send made-up keys to get fresh buckets; pass key.verify (apiKey, request) => boolean to accept only the keys your app issued (or () => true if an earlier hook already rejects unknown keys)`,
  )
}

/** The first value of a header: a repeated header reaches the app joined by commas, and is one client. */
function firstValue(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value
  if (raw === undefined) return undefined
  const comma = raw.indexOf(',')
  const first = (comma === -1 ? raw : raw.slice(0, comma)).trim()
  return first === '' ? undefined : first
}

function checkedId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw badValue('key', 'a non-empty string', id)
  return customClientId(id)
}

function checkedBoolean(option: string): (value: unknown) => boolean {
  return (value) => {
    if (typeof value !== 'boolean') throw badValue(option, 'true or false', value)
    return value
  }
}

const checkedVerdict = checkedBoolean('key.verify')

/** The client id of the request's address, or the one shared unknown bucket, said out loud. */
function ipId<Req>(shared: Shared<Req>, view: RequestView): string {
  const note = view.address
  if (note?.kind === 'untrusted-forwarded-for') warnUntrustedForwardedFor(shared, note)
  const id = ipClientId(view.ip, shared.options.ipv6Subnet)
  if (id !== undefined) return id
  shared.unknownIp++
  if (note?.kind === 'trusted-proxy') {
    shared.once.warn(
      WarningCodes.UNKNOWN_IP,
      { ip: note.proxy.slice(0, 64), reason: 'trusted-proxy', setting: note.setting },
      `@sluice: a request came from ${note.proxy.slice(0, 64)}, which ${note.setting} trusts as a proxy, with no X-Forwarded-For naming a client, so it was checked against the one bucket that every such request shares (a proxy's own address is no client's); have the gateway send X-Forwarded-For (RFC 7239 Forwarded is not read), or key by API key`,
    )
    return UNKNOWN_IP_ID
  }
  shared.once.warn(
    WarningCodes.UNKNOWN_IP,
    { ip: view.ip === undefined ? null : String(view.ip).slice(0, 64) },
    "@sluice: a request had no usable client address, so it was checked against the one bucket that every such request shares; behind a proxy on a unix socket, or one that sends no X-Forwarded-For, set the framework's trust-proxy setting to the gateway's address and have the gateway send X-Forwarded-For, or key by API key",
  )
  return UNKNOWN_IP_ID
}

function warnUntrustedForwardedFor<Req>(shared: Shared<Req>, note: { readonly peer: string; readonly setting: string }): void {
  const peer = note.peer.slice(0, 64)
  shared.once.warn(
    WarningCodes.UNTRUSTED_FORWARDED_FOR,
    { peer, setting: note.setting },
    `@sluice: a request from ${peer} carried X-Forwarded-For, but ${note.setting} does not trust ${peer}, so the request was keyed by ${peer}'s own address: if ${peer} is your proxy, every client shares its bucket; set ${note.setting} to the proxy's address. A public app with no proxy in front, whose clients send X-Forwarded-For themselves, sees this warning too and may ignore it`,
  )
}

/**
 * The client id, or undefined for a missing (or unverified) API key the route rejects.
 * Synchronous unless a request function returns a promise.
 */
function resolveClientId<Req>(
  shared: Shared<Req>,
  key: KeyOption<Req>,
  request: Req,
  view: RequestView,
): string | undefined | Promise<string | undefined> {
  if (key === 'ip') return ipId(shared, view)
  if (typeof key === 'function') return callRequestFunction('key', () => key(request), checkedId)
  const missing = (): string | undefined => (key.missing === 'reject' ? undefined : ipId(shared, view))
  const apiKey = firstValue(view.header(key.header))
  if (apiKey === undefined) return missing()
  const verify = key.verify
  if (verify === undefined) return apiKeyClientId(apiKey)
  const verdict = callRequestFunction('key.verify', () => verify(apiKey, request), checkedVerdict)
  const settle = (ok: boolean): string | undefined => (ok ? apiKeyClientId(apiKey) : missing())
  return typeof verdict === 'boolean' ? settle(verdict) : verdict.then(settle)
}

/** The client id an operator names; an address that does not parse is an error, not the unknown bucket. */
function clientIdOf(client: ClientRef, ipv6Subnet: number): string {
  // Operators call these from scripts and admin routes, where a null or a missing argument is as
  // likely as a malformed one, and deserves the same coded error.
  const given = (typeof client === 'object' && client !== null ? client : {}) as Partial<Record<'ip' | 'apiKey' | 'id', unknown>>
  if (typeof given.ip === 'string') {
    const id = ipClientId(given.ip, ipv6Subnet)
    if (id !== undefined) return id
  } else if (typeof given.apiKey === 'string' && given.apiKey !== '') {
    return apiKeyClientId(given.apiKey)
  } else if (typeof given.id === 'string' && given.id !== '') {
    return customClientId(given.id)
  }
  throw new SluiceError(
    ErrorCodes.INVALID_ARGUMENT,
    "@sluice: expected a client as { ip: '<address>' }, { apiKey: '<key>' } or { id: '<key-function id>' }",
  )
}

function unavailable(error: unknown): SluiceError {
  return error instanceof SluiceError && error.code === ErrorCodes.STORE_UNAVAILABLE
    ? error
    : new SluiceError(ErrorCodes.STORE_UNAVAILABLE, '@sluice: the store could not be reached', { cause: error })
}

/** The operator's and the handler's calls: reset, peek, and manual checks. */
function manualChecks<Req>(shared: Shared<Req>, own: Binding | ReadonlyMap<string, Binding>) {
  const { options } = shared
  const { store } = options
  const budgeted = budgetedCheck(store, options.timeoutMs)
  const manualPolicies = new Map<string, Binding>()

  const bindingFor = (tier: string | undefined): Binding => {
    if (isBinding(own)) return own
    const binding = tier === undefined ? undefined : own.get(tier)
    if (binding === undefined) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `@sluice: expected a tier, one of ${[...own.keys()].map((t) => `'${t}'`).join(', ')}`,
      )
    }
    return binding
  }

  const manualBinding = (policy: ManualCheckOptions['policy']): Binding | undefined => {
    if (policy === undefined) return undefined
    if (!isPlainObject(policy)) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        "@sluice: check()'s `policy` must be an object, as { name, capacity, refillPerSecond }",
      )
    }
    // The same checks as a policy anywhere else: a misspelt `shadwo` must not quietly enforce.
    assertKnownOptions(policy, POLICY_KEYS, 'policy.')
    const resolved = resolvePolicy(policy, 'policy.')
    const known = manualPolicies.get(resolved.name)
    if (known !== undefined) {
      const p = known.policies[0]!
      if (p.capacity !== resolved.capacity || p.intervalNs !== resolved.intervalNs || p.shadow !== resolved.shadow) {
        throw new SluiceError(
          ErrorCodes.INVALID_OPTION,
          `@sluice: policy "${resolved.name}" was first used with other numbers; give each policy its own name`,
        )
      }
      return known
    }
    if (manualPolicies.size >= MAX_MANUAL_POLICIES) {
      throw new SluiceError(ErrorCodes.INVALID_OPTION, `@sluice: at most ${MAX_MANUAL_POLICIES} distinct policies in manual checks`)
    }
    const bucketId = manualBucketId(resolved.name)
    // Another limiter on this store and prefix may check this manual policy with other numbers.
    shared.claims.claim([{ bucketId, policy: resolved, option: 'policy.name' }])
    const binding = Object.freeze({
      policies: [resolved],
      bucketIds: [bucketId],
      policyHeader: policyHeader([resolved]),
    })
    manualPolicies.set(resolved.name, binding)
    return binding
  }

  return {
    async reset(client: ClientRef): Promise<void> {
      const clientId = clientIdOf(client, options.ipv6Subnet)
      const keys = [...shared.bucketIds].map((id) => bucketKey(options.prefix, clientId, id))
      shared.checker.local?.forget(keys)
      if (store.reset === undefined) {
        throw new SluiceError(ErrorCodes.STORE_UNAVAILABLE, `@sluice: the ${store.kind} store cannot reset buckets`)
      }
      try {
        const within = (store as Partial<BudgetedStore>).resetWithin
        // A store that keeps budgets itself gets this limiter's, not its own default.
        const reset = within !== undefined ? within.call(store, keys, options.timeoutMs) : store.reset(keys)
        await withTimeout(Promise.resolve(reset), options.timeoutMs)
      } catch (error) {
        throw unavailable(error)
      }
    },

    async peek(client: ClientRef & { readonly tier?: string }): Promise<RateLimitResult> {
      const clientId = clientIdOf(client, options.ipv6Subnet)
      const binding = bindingFor(client.tier)
      const keys = binding.bucketIds.map((id) => bucketKey(options.prefix, clientId, id))
      const request = { keys, policies: binding.policies, cost: 1, dryRun: true }
      try {
        return summarize(checkedReply(await budgeted(request), request, store.kind), binding.policies, keys, 1, false)
      } catch (error) {
        throw unavailable(error)
      }
    },

    async check(request: Req, checkOptions: ManualCheckOptions): Promise<RateLimitResult> {
      if (!isPlainObject(checkOptions)) {
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, "@sluice: check() needs options, as check(request, { key: '<key>' })")
      }
      assertKnownOptions(checkOptions, ['key', 'cost', 'policy'], '')
      if (typeof checkOptions.key !== 'string' || checkOptions.key === '') {
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, '@sluice: check() needs a non-empty string `key`')
      }
      const binding = manualBinding(checkOptions.policy) ?? (isBinding(own) ? own : await tierOf(options, own, request))
      const tokens = checkedCost(checkOptions.cost ?? 1)
      const { result, source } = await measure(shared, manualClientId(checkOptions.key), binding, tokens)
      if (result === undefined) {
        throw new SluiceError(
          ErrorCodes.STORE_UNAVAILABLE,
          `@sluice: the store is unavailable and the failure mode is '${source}': nothing was measured`,
        )
      }
      return result
    },
  }
}
