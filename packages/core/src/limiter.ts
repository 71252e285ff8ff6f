import { ErrorCodes, SluiceError } from './errors.js'
import { Failover } from './failover.js'
import { rateLimitHeaders } from './headers.js'
import { apiKeyClientId, bucketKey, customClientId, ipClientId, routeBucketId } from './keys.js'
import { notify } from './observer.js'
import { checkedCost, ROUTE_OPTION_NAMES, resolveCost, resolveKey, resolveLimiterOptions } from './options.js'
import { POLICY_KEYS, resolvePolicies } from './policies.js'
import { costExceedsCapacity, limiterUnavailable, missingApiKey, quotaExceeded } from './problem.js'
import { summarize } from './summarize.js'
import type {
  AnswerSource,
  CheckReply,
  CheckRequest,
  CostOption,
  Decision,
  KeyOption,
  LimiterOptions,
  LimiterStats,
  RequestView,
  ResolvedLimiterOptions,
  ResolvedPolicy,
  RouteLimitOptions,
  SluiceStats,
} from './types.js'
import { assertKnownOptions, assertPlainObject } from './validate.js'
import { WarnThrottle } from './warn-throttle.js'

/** The policies bound to a route: checks a request against their buckets, all or nothing. */
export interface RouteLimiter<Req> {
  readonly policies: readonly ResolvedPolicy[]
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
  /** Counters for metrics: answers by source, store errors, the circuit's state, shadow denials. */
  stats(): SluiceStats
}

interface Checker {
  check(
    request: CheckRequest,
    policies: readonly ResolvedPolicy[],
  ): Promise<{ reply: CheckReply | undefined; policies: readonly ResolvedPolicy[]; source: AnswerSource }>
  stats(): LimiterStats
}

/** An in-process store cannot fail, so it needs no guard; any other store gets one. */
function checkerFor(options: ResolvedLimiterOptions<unknown>): Checker {
  if (options.store.kind === 'memory') {
    let answers = 0
    return {
      async check(request, policies) {
        answers++
        return { reply: await options.store.check(request), policies, source: 'store' }
      },
      stats: () => ({ storeAnswers: answers, degradedAnswers: 0, storeErrors: 0, circuit: 'closed' }),
    }
  }
  const failover = new Failover(options.store, {
    observer: options.observer,
    timeoutMs: options.timeoutMs,
    mode: options.failureMode,
    replicas: options.replicas,
    circuitBreaker: options.circuitBreaker,
    logger: options.logger,
    localMaxKeys: options.memoryMaxKeys,
  })
  return { check: (request, policies) => failover.check(request, policies), stats: () => failover.stats }
}

interface Shared<Req> {
  readonly options: ResolvedLimiterOptions<Req>
  readonly checker: Checker
  readonly shadow: WarnThrottle
  shadowDenials: number
}

/** Validate options once and build the limiter. */
export function createLimiter<Req>(input: LimiterOptions<Req>, adapterOptions: readonly string[] = []): Limiter<Req> {
  const options = resolveLimiterOptions<Req>(input, adapterOptions)
  const shared: Shared<Req> = {
    options,
    checker: checkerFor(options as ResolvedLimiterOptions<unknown>),
    shadow: new WarnThrottle(options.logger),
    shadowDenials: 0,
  }
  // A route without an override checks the limiter's own buckets, named after their policies.
  const sharedIds = options.policies.map((p) => p.name)
  const bindShared = (label: string): RouteLimiter<Req> => bindRoute(shared, label, options.policies, sharedIds, options.key, options.cost)
  const whole = bindShared('*')

  return {
    options,
    stats: () => ({ ...shared.checker.stats(), shadowDenials: shared.shadowDenials }),
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
  const observe = (decision: Decision): Decision => {
    notify(options.observer?.decision, { route, decision })
    return decision
  }
  return {
    policies,
    async check(request, view) {
      const pending = resolveClientId(key, request, view, options.ipv6Subnet)
      const clientId = typeof pending === 'object' ? await pending : pending
      if (clientId === undefined) {
        const header = (key as { header: string }).header
        return observe({ result: undefined, headers: {}, deny: missingApiKey(header), source: 'store', outcome: 'missing-key' })
      }
      const tokens = typeof cost === 'number' ? cost : checkedCost(cost(request))
      const keys = bucketIds.map((id) => bucketKey(options.prefix, clientId, id))
      const buckets = policies.map((p, i) => ({
        key: keys[i]!,
        capacity: p.capacity,
        intervalNs: p.intervalNs,
        cost: tokens,
        enforce: !p.shadow,
      }))
      const answer = await checker.check({ buckets }, policies)
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
    },
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined || first === '' ? undefined : first
}

function checkedCustomId(id: unknown): string {
  if (typeof id !== 'string' || id === '') {
    throw new SluiceError(
      ErrorCodes.INVALID_REQUEST_VALUE,
      `@sluice: the \`key\` function must return a non-empty string, got ${typeof id === 'string' ? '""' : typeof id}`,
    )
  }
  return customClientId(id)
}

/** Synchronous unless a key function returns a promise: an await per request is not free. */
function resolveClientId<Req>(
  key: KeyOption<Req>,
  request: Req,
  view: RequestView,
  ipv6Subnet: number,
): string | undefined | Promise<string> {
  if (key === 'ip') return ipClientId(view.ip, ipv6Subnet)
  if (typeof key === 'function') {
    const id = key(request)
    return id instanceof Promise ? id.then(checkedCustomId) : checkedCustomId(id)
  }
  const apiKey = firstHeader(view.header(key.header))
  if (apiKey !== undefined) return apiKeyClientId(apiKey)
  return key.missing === 'reject' ? undefined : ipClientId(view.ip, ipv6Subnet)
}
