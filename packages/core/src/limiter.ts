import { Failover, type PolicyCheck } from './failover.js'
import { rateLimitHeaders } from './headers.js'
import { apiKeyClientId, bucketKey, customClientId, ipClientId, routeBucketId, UNKNOWN_IP_ID } from './keys.js'
import { notify } from './observer.js'
import { checkedCost, ROUTE_OPTION_NAMES, resolveCost, resolveKey, resolveLimiterOptions } from './options.js'
import { POLICY_KEYS, resolvePolicies } from './policies.js'
import { costExceedsCapacity, limiterUnavailable, missingApiKey, quotaExceeded } from './problem.js'
import { badValue, callRequestFunction } from './request-functions.js'
import { MemoryStore } from './stores/memory-store.js'
import { summarize } from './summarize.js'
import { keysByIp } from './trust-proxy.js'
import type {
  AnswerSource,
  CheckReply,
  CostOption,
  Decision,
  KeyOption,
  LimiterOptions,
  LimiterStats,
  RequestView,
  ResolvedLimiterOptions,
  ResolvedPolicy,
  RouteLimitOptions,
  SluiceLogger,
  SluiceStats,
} from './types.js'
import { assertKnownOptions, assertPlainObject } from './validate.js'
import { type WarningCode, WarningCodes, WarnOnce, WarnThrottle } from './warnings.js'

/** The policies bound to a route: checks a request against their buckets, all or nothing. */
export interface RouteLimiter<Req> {
  readonly policies: readonly ResolvedPolicy[]
  /** Whether this route's key can end up being the client IP (so the trust-proxy setting matters). */
  readonly keysByIp: boolean
  check(request: Req, view: RequestView): Promise<Decision>
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
}

interface Checker {
  check(request: PolicyCheck): Promise<{ reply: CheckReply | undefined; policies: readonly ResolvedPolicy[]; source: AnswerSource }>
  stats(): LimiterStats
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
  return { check: (request) => failover.check(request), stats: () => failover.stats }
}

/** What every route of one limiter shares. */
interface Shared<Req> {
  readonly options: ResolvedLimiterOptions<Req>
  readonly checker: Checker
  readonly once: WarnOnce
  readonly shadow: WarnThrottle
  shadowDenials: number
  unknownIp: number
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
  const shared: Shared<Req> = {
    options,
    checker: checkerFor(options as ResolvedLimiterOptions<unknown>),
    once: new WarnOnce(options.logger),
    shadow: new WarnThrottle(options.logger, WarningCodes.SHADOW_DENIAL),
    shadowDenials: 0,
    unknownIp: 0,
  }
  // A route without an override checks the limiter's own buckets, named after their policies.
  const sharedIds = options.policies.map((p) => p.name)
  const bindShared = (label: string): RouteLimiter<Req> => bindRoute(shared, label, options.policies, sharedIds, options.key, options.cost)
  const whole = bindShared('*')

  return {
    options,
    stats: () => ({ ...shared.checker.stats(), shadowDenials: shared.shadowDenials, unknownIp: shared.unknownIp }),
    warnOnce: (code, details, message) => shared.once.warn(code, details, message),
    forRoute(config, method, url) {
      if (config === false) return null
      const label = method === '' ? url : `${method} ${url}`
      if (config === undefined) return method === '*' ? whole : bindShared(label)
      assertPlainObject(config, 'config.rateLimit')
      assertKnownOptions(config, ROUTE_OPTION_NAMES, 'config.rateLimit.')
      const own = [...POLICY_KEYS, 'policies'].some((k) => (config as Record<string, unknown>)[k] !== undefined)
      const first = options.policies[0]!
      const policies = !own
        ? options.policies
        : resolvePolicies(
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
      const bucketIds = policies.map((p) => (own ? routeBucketId(p.name, method, url) : p.name))
      const key = config.key === undefined ? options.key : resolveKey<Req>(config.key, 'config.rateLimit.key')
      const cost =
        config.cost === undefined
          ? resolveCost<Req>(options.cost, 'cost', policies)
          : resolveCost<Req>(config.cost, 'config.rateLimit.cost', policies)
      return bindRoute(shared, label, policies, bucketIds, key, cost)
    },
  }
}

function bindRoute<Req>(
  shared: Shared<Req>,
  route: string,
  policies: readonly ResolvedPolicy[],
  bucketIds: readonly string[],
  key: KeyOption<Req>,
  cost: CostOption<Req>,
): RouteLimiter<Req> {
  const { options, checker } = shared
  const prefix = options.prefix
  warnIfUnverified(shared, key)
  const observe = (decision: Decision): Decision => {
    notify(options.observer?.decision, { route, decision })
    return decision
  }

  async function decide(clientId: string | undefined, tokens: number): Promise<Decision> {
    if (clientId === undefined) {
      const header = (key as { header: string }).header
      return observe({ result: undefined, headers: {}, deny: missingApiKey(header), source: 'store', outcome: 'missing-key' })
    }
    const keys = bucketIds.map((id) => bucketKey(prefix, clientId, id))
    const answer = await checker.check({ keys, policies, cost: tokens })
    if (answer.reply === undefined) {
      // `allow` and `deny` failure modes measured nothing, so they claim no quota.
      return observe(
        answer.source === 'deny'
          ? { result: undefined, headers: {}, deny: limiterUnavailable(), source: 'deny', outcome: 'unavailable' }
          : { result: undefined, headers: {}, deny: undefined, source: answer.source, outcome: 'allowed' },
      )
    }
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
    const deny = result.allowed ? undefined : result.status === 'denied' ? quotaExceeded(result) : costExceedsCapacity(result)
    return observe({ result, headers: rateLimitHeaders(result), deny, source: answer.source, outcome: result.status })
  }

  return {
    policies,
    keysByIp: keysByIp(key as KeyOption<never>),
    async check(request, view) {
      const client = resolveClientId(shared, key, request, view)
      const clientId = typeof client === 'object' ? await client : client
      const counted = typeof cost === 'number' ? cost : callRequestFunction('cost', () => cost(request), checkedCost)
      return decide(clientId, typeof counted === 'number' ? counted : await counted)
    },
  }
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

function checkedVerdict(verdict: unknown): boolean {
  if (typeof verdict !== 'boolean') throw badValue('key.verify', 'true or false', verdict)
  return verdict
}

/** The client id of the request's address, or the one shared unknown bucket, said out loud. */
function ipId<Req>(shared: Shared<Req>, view: RequestView): string {
  const id = ipClientId(view.ip, shared.options.ipv6Subnet)
  if (id !== undefined) return id
  shared.unknownIp++
  shared.once.warn(
    WarningCodes.UNKNOWN_IP,
    { ip: view.ip === undefined ? null : String(view.ip).slice(0, 64) },
    "@sluice: a request had no usable client address, so it was checked against the one bucket that every such request shares; behind a proxy on a unix socket, or one that sends no X-Forwarded-For, set the framework's trust-proxy setting to the gateway's address and have the gateway send X-Forwarded-For, or key by API key",
  )
  return UNKNOWN_IP_ID
}

/**
 * The client id, or undefined for a missing (or unverified) API key the route rejects.
 * Synchronous unless a request function returns a promise: an await per request is not free.
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
