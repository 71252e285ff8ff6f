import { Bindings } from './bindings.js'
import { createControls } from './controls.js'
import { routeBucketId } from './keys.js'
import { LimiterCore } from './limiter-core.js'
import {
  checkedCost,
  ROUTE_OPTION_NAMES,
  resolveCost,
  resolveFunction,
  resolveKey,
  resolveLimiterOptions,
  SETTLE_SHAPE,
} from './options.js'
import { assertKnownPolicyOptions } from './peer-options.js'
import { POLICY_KEYS, resolveRoutePolicies } from './policies.js'
import { missingApiKey, problemDenial } from './problem.js'
import { callRequestFunction, checkedBoolean } from './request-functions.js'
import { pipe, promised } from './sink.js'
import { assertCapabilities } from './store-door.js'
import { isThenable } from './thenable.js'
import { keysByIp } from './trust-proxy.js'
import type {
  Binding,
  CostOption,
  Decision,
  KeyOption,
  LimiterControls,
  LimiterOptions,
  RequestView,
  ResolvedLimiterOptions,
  ResolvedPolicy,
  RouteLimitOptions,
  SettleOption,
  SkipOption,
  SluiceLogger,
} from './types.js'
import { assertPlainObject } from './validate.js'
import type { WarningCode } from './warnings.js'

/** The policies bound to a route: checks a request against their buckets, all or nothing. */
export interface RouteLimiter<Req, Rep = unknown> {
  /** The route's policies (with tiers and no policies of its own, the first tier's). */
  readonly policies: readonly ResolvedPolicy[]
  /** Whether this route's key can end up being the client IP, or an `allowList` of addresses applies (so the trust-proxy setting matters). */
  readonly keysByIp: boolean
  /**
   * The decision for a request; undefined when `allowList` or `skip` exempted it (no check,
   * nothing to send). An admitted one may carry `onEnd`: call it once the response has ended.
   */
  check(request: Req, view: RequestView): Promise<Decision<Req, Rep> | undefined>
}

export interface Limiter<Req, Rep = unknown> {
  readonly options: ResolvedLimiterOptions<Req>
  /** The operator's and handlers' calls, as the frozen object an adapter hands to the app. */
  readonly controls: LimiterControls<Req>
  /**
   * Bind the limiter to a route. `config` is the route's own setting: undefined for the
   * limiter's policies (null with `global: false`), `false` to exempt the route (null), or an override. `method` and
   * `url` identify the route (its own buckets are named after them, and metrics label it); pass
   * `'*', '*'` for a limiter that is not bound to one route, or `''` and an id of your own.
   */
  forRoute(config: RouteLimitOptions<Req, Rep> | false | undefined, method: string, url: string): RouteLimiter<Req, Rep> | null
  /** Log a coded warning once for this limiter: for the misconfigurations an adapter detects. */
  warnOnce(code: WarningCode, details: object, message: string): void
  /**
   * Give back this limiter's claims on its buckets' ids (see bucket-claims.ts), so that another
   * limiter on the same client and prefix may use them with other numbers: an adapter calls it
   * when its app closes. A limiter that is never closed gives them back when it is collected.
   */
  close(): void
}

/**
 * Validate options once and build the limiter. `adapterOptions` names the options the adapter
 * reads itself; `fallbackLogger` is where warnings go when no `logger` option is given. `Rep` is
 * the framework's reply, as `settle` receives it (inside, the core passes it along untouched).
 */
export function createLimiter<Req, Rep = unknown>(
  input: LimiterOptions<Req, Rep>,
  adapterOptions: readonly string[] = [],
  fallbackLogger?: SluiceLogger,
): Limiter<Req, Rep> {
  return createAnyLimiter<Req>(input as LimiterOptions<Req>, adapterOptions, fallbackLogger) as unknown as Limiter<Req, Rep>
}

function createAnyLimiter<Req>(input: LimiterOptions<Req>, adapterOptions: readonly string[], fallbackLogger?: SluiceLogger): Limiter<Req> {
  const options = resolveLimiterOptions<Req>(input, adapterOptions, fallbackLogger)
  const core = new LimiterCore<Req>(options)
  let own: Bindings<Req>
  try {
    own = ownBindings(core, input as unknown as Record<string, unknown>)
  } catch (error) {
    core.release()
    throw error
  }
  const whole = bindRoute(core, '*', own, options.key, options.cost, options.skip, options.settle)

  return {
    options,
    controls: createControls(core, own),
    warnOnce: (code, details, message) => core.once.warn(code, details, message),
    forRoute(config, method, url) {
      if (config === false) return null
      const label = method === '' ? url : `${method} ${url}`
      if (config === undefined) {
        // Opt-in limiting: a route that asks for nothing gets nothing, the app-wide binding included.
        if (!options.global) return null
        return method === '*' ? whole : bindRoute(core, label, own, options.key, options.cost, options.skip, options.settle)
      }
      assertPlainObject(config, 'config.rateLimit')
      assertKnownPolicyOptions(config, ROUTE_OPTION_NAMES, 'config.rateLimit.')
      const routeOwn = routeBinding(core, config, method, url)
      const bindings = routeOwn === undefined ? own : Bindings.one<Req>(routeOwn)
      const key = config.key === undefined ? options.key : resolveKey<Req>(config.key, 'config.rateLimit.key')
      const fits = bindings.all.flatMap((b) => b.policies)
      const cost =
        config.cost === undefined
          ? resolveCost<Req>(options.cost, 'cost', fits)
          : resolveCost<Req>(config.cost, 'config.rateLimit.cost', fits)
      const skip =
        config.skip === undefined
          ? options.skip
          : resolveFunction<SkipOption<Req>>(config.skip, 'config.rateLimit.skip', '(request) => boolean')
      // A route's `settle` replaces the limiter's, as `skip` does.
      let settle = options.settle
      if (config.settle !== undefined) {
        settle = resolveFunction<SettleOption<Req>>(config.settle, 'config.rateLimit.settle', SETTLE_SHAPE)
        assertCapabilities(options.door, ['settles'], 'config.rateLimit.settle')
      }
      return bindRoute(core, label, bindings, key, cost, skip, settle)
    },
    close: () => core.release(),
  }
}

/**
 * The limiter's own policies: in buckets named after them, and with tiers after the tier too,
 * so an upgrade starts from a fresh bucket. `input` is what the user wrote, to name an option.
 */
function ownBindings<Req>(core: LimiterCore<Req>, input: Record<string, unknown>): Bindings<Req> {
  const { options } = core
  if (options.tiers === undefined) {
    const several = input.policies !== undefined
    return Bindings.one(
      core.bind(
        options.policies,
        options.policies.map((p) => p.name),
        (i) => (several ? `policies[${i}].name` : 'name'),
      ),
    )
  }
  const tiers = input.tiers as Record<string, unknown>
  const bound = new Map(
    [...options.tiers].map(([tier, policies]): [string, Binding] => {
      const several = Array.isArray(tiers[tier])
      return [
        tier,
        core.bind(
          policies,
          policies.map((p) => `${tier}/${p.name}`),
          (i) => (several ? `tiers.${tier}[${i}].name` : `tiers.${tier}.name`),
        ),
      ]
    }),
  )
  const tier = options.tier!
  return Bindings.tiered(bound, (request) => tier(request))
}

/**
 * A route override's own policies, in buckets named after the route; undefined for an override
 * of the key, cost or skip only, which draws from the limiter's buckets. A partial policy takes
 * the rest from the limiter's first.
 */
function routeBinding<Req>(
  core: LimiterCore<Req>,
  config: RouteLimitOptions<never> & Record<string, unknown>,
  method: string,
  url: string,
): Binding | undefined {
  if (![...POLICY_KEYS, 'policies'].some((k) => config[k] !== undefined)) return undefined
  const policies = resolveRoutePolicies(config, core.options.policies)
  return core.bind(
    policies,
    policies.map((p) => routeBucketId(p.name, method, url)),
    (i) => (config.policies !== undefined ? `config.rateLimit.policies[${i}].name` : 'config.rateLimit.name'),
  )
}

const checkedSkip = checkedBoolean('skip')

function bindRoute<Req>(
  core: LimiterCore<Req>,
  route: string,
  bindings: Bindings<Req>,
  key: KeyOption<Req>,
  cost: CostOption<Req>,
  skip: SkipOption<Req> | undefined,
  settle: SettleOption<Req> | undefined,
): RouteLimiter<Req> {
  core.identity.warnIfUnverified(key)
  const { allowList } = core.options
  const endSteps = core.endSteps(
    settle,
    bindings.all.some((b) => b.slots.length > 0),
  )
  type Out = Decision<Req> | undefined
  // A check is a chain of stages, each a function of the request made once per route: a stage
  // whose request function returned a promise goes on when it settles, and every other goes
  // straight on, so a check with synchronous request functions makes one promise, the
  // measurement's (sink.ts), since an await per request is not free.
  const measure = (request: Req, clientId: string, binding: Binding, tokens: number): Promise<Out> =>
    promised<Out>((sink) =>
      core.measureInto(clientId, binding, tokens, route, {
        resolve(measured) {
          let decision: Out | Promise<Out>
          try {
            decision = core.decide(route, binding, measured, request, core.onEnd(route, endSteps, measured))
          } catch (error) {
            sink.reject(error)
            return
          }
          if (isThenable(decision)) pipe(decision, sink)
          else sink.resolve(decision)
        },
        reject: (error) => sink.reject(error),
      }),
    )
  const costed = (request: Req, clientId: string, binding: Binding): Out | Promise<Out> => {
    const counted = typeof cost === 'number' ? cost : callRequestFunction('cost', () => cost(request), checkedCost)
    return isThenable(counted)
      ? counted.then((tokens) => measure(request, clientId, binding, tokens))
      : measure(request, clientId, binding, counted)
  }
  const keyed = (request: Req, view: RequestView, clientId: string | undefined): Out | Promise<Out> => {
    if (clientId === undefined) {
      const header = (key as { header: string }).header
      const problem = problemDenial(missingApiKey(header, core.identity.sentApiKey(key, view)))
      return core.observe(route, { result: undefined, headers: {}, deny: problem, source: 'store', outcome: 'missing-key' })
    }
    const chosen = bindings.for(request)
    return isThenable(chosen)
      ? Promise.resolve(chosen).then((binding) => costed(request, clientId, binding))
      : costed(request, clientId, chosen)
  }
  const unskipped = (request: Req, view: RequestView): Out | Promise<Out> => {
    const client = core.identity.of(key, request, view)
    return isThenable(client) ? Promise.resolve(client).then((id) => keyed(request, view, id)) : keyed(request, view, client)
  }
  const allowed = (request: Req, view: RequestView): Out | Promise<Out> => {
    if (skip === undefined) return unskipped(request, view)
    const skipped = callRequestFunction('skip', () => skip(request), checkedSkip)
    if (isThenable(skipped)) return skipped.then((yes) => (yes ? core.skipped(route) : unskipped(request, view)))
    return skipped ? core.skipped(route) : unskipped(request, view)
  }
  const start = (request: Req, view: RequestView): Out | Promise<Out> => {
    if (allowList === undefined) return allowed(request, view)
    const listed = allowList.allows(request, view)
    if (isThenable(listed)) return Promise.resolve(listed).then((yes) => (yes ? core.skipped(route) : allowed(request, view)))
    return listed ? core.skipped(route) : allowed(request, view)
  }
  return {
    policies: bindings.policies,
    // An allow-list of addresses trusts them as much as a key by IP does.
    keysByIp: keysByIp(key as KeyOption<never>) || allowList?.byAddress === true,
    check(request, view) {
      try {
        const out = start(request, view)
        return out instanceof Promise ? out : Promise.resolve(out)
      } catch (error) {
        return Promise.reject(error)
      }
    },
  }
}
