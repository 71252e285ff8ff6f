import { ErrorCodes, SluiceError } from './errors.js'
import { badValue, callRequestFunction } from './request-functions.js'
import type { Binding, ResolvedPolicy } from './types.js'

/**
 * The policies a route checks, whether it has one set or a set per tier: `for(request)` picks
 * a request's (by the limiter's `tier` function), `tier(name)` an operator's by name.
 */
export class Bindings<Req> {
  readonly #fixed: Binding | undefined
  readonly #tiers: ReadonlyMap<string, Binding>
  readonly #tierOf: ((request: Req) => unknown) | undefined
  /** Every binding: the one, or each tier's in the order the tiers were given. */
  readonly all: readonly Binding[]

  private constructor(fixed: Binding | undefined, tiers: ReadonlyMap<string, Binding>, tierOf: ((request: Req) => unknown) | undefined) {
    this.#fixed = fixed
    this.#tiers = tiers
    this.#tierOf = tierOf
    this.all = fixed === undefined ? [...tiers.values()] : [fixed]
  }

  /** One set of policies for every request. */
  static one<Req>(binding: Binding): Bindings<Req> {
    return new Bindings<Req>(binding, new Map(), undefined)
  }

  /** A set per tier; `tierOf` names a request's tier (the limiter's `tier` option). */
  static tiered<Req>(tiers: ReadonlyMap<string, Binding>, tierOf: (request: Req) => unknown): Bindings<Req> {
    return new Bindings<Req>(undefined, tiers, tierOf)
  }

  /** The route's policies (with tiers, the first tier's). */
  get policies(): readonly ResolvedPolicy[] {
    return this.all[0]!.policies
  }

  /** A request's policies. Synchronous unless the `tier` function returns a promise. */
  for(request: Req): Binding | Promise<Binding> {
    if (this.#fixed !== undefined) return this.#fixed
    const tierOf = this.#tierOf!
    const check = (name: unknown): Binding => {
      const binding = typeof name === 'string' ? this.#tiers.get(name) : undefined
      if (binding === undefined) throw badValue('tier', `one of ${this.#names()}`, name)
      return binding
    }
    return callRequestFunction('tier', () => tierOf(request), check)
  }

  /** The policies of the tier an operator names (any name, or none, without tiers). */
  tier(name: string | undefined): Binding {
    if (this.#fixed !== undefined) return this.#fixed
    const binding = name === undefined ? undefined : this.#tiers.get(name)
    if (binding === undefined) throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `@sluice: expected a tier, one of ${this.#names()}`)
    return binding
  }

  #names(): string {
    return [...this.#tiers.keys()].map((t) => `'${t}'`).join(', ')
  }
}
