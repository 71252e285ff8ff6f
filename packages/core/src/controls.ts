import type { Bindings } from './bindings.js'
import { clientIdOf } from './client-identity.js'
import { deadlineIn } from './deadline.js'
import { ErrorCodes, SluiceError } from './errors.js'
import { policyHeader } from './headers.js'
import { manualBucketId, manualClientId } from './keys.js'
import type { LimiterCore } from './limiter-core.js'
import { checkedCost } from './options.js'
import { assertKnownPolicyOptions } from './peer-options.js'
import { POLICY_KEYS, resolveConcurrencyPolicy, resolvePolicy } from './policies.js'
import { checkedReply } from './store-reply.js'
import { summarize } from './summarize.js'
import { isThenable } from './thenable.js'
import type { Acquired, Binding, ClientRef, LimiterControls, ManualAcquireOptions, ManualCheckOptions, RateLimitResult } from './types.js'
import { assertKnownOptions, isPlainObject } from './validate.js'

/** Bound on the distinct policies handlers may name in manual checks. */
const MAX_MANUAL_POLICIES = 1_000

function unavailable(error: unknown): SluiceError {
  return error instanceof SluiceError && error.code === ErrorCodes.STORE_UNAVAILABLE
    ? error
    : new SluiceError(ErrorCodes.STORE_UNAVAILABLE, '@sluice: the store could not be reached', { cause: error })
}

/**
 * The operator's and the handler's calls on a limiter (`stats`, `reset`, `peek`, manual
 * `check`), as one frozen object: what `fastify.sluice` is, and what the Express middleware
 * carries. `own` is the limiter's own policies.
 */
export function createControls<Req>(core: LimiterCore<Req>, own: Bindings<Req>): LimiterControls<Req> {
  const { options } = core
  const { door } = options
  const manualPolicies = new Map<string, Binding>()
  const manualSlots = new Map<string, Binding>()
  // A binding's buckets alone (a manual check takes no slot: nothing would release it), and its
  // slots alone (an acquire takes nothing else), made once per binding.
  const bucketsOnly = new WeakMap<Binding, Binding>()
  const slotsOnly = new WeakMap<Binding, Binding>()
  const part = (cache: WeakMap<Binding, Binding>, binding: Binding, slots: boolean): Binding => {
    let made = cache.get(binding)
    if (made === undefined) {
      made = Object.freeze(
        slots
          ? { ...binding, policies: [], bucketIds: [], policyHeader: policyHeader(binding.slots) }
          : { ...binding, slots: [], slotIds: [], policyHeader: policyHeader(binding.policies) },
      )
      cache.set(binding, made)
    }
    return made
  }

  const manualSlotBinding = (policy: ManualAcquireOptions['policy']): Binding | undefined => {
    if (policy === undefined) return undefined
    if (!isPlainObject(policy)) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        "@sluice: acquire()'s `policy` must be an object, as { name, concurrency, leaseMs }",
      )
    }
    assertKnownPolicyOptions(policy, POLICY_KEYS, 'policy.')
    const resolved = resolveConcurrencyPolicy(policy, 'policy.')
    const known = manualSlots.get(resolved.name)
    if (known !== undefined) {
      const p = known.slots[0]!
      if (p.concurrency !== resolved.concurrency || p.leaseMs !== resolved.leaseMs) {
        throw new SluiceError(
          ErrorCodes.INVALID_OPTION,
          `@sluice: policy "${resolved.name}" was first used with other numbers; give each policy its own name`,
        )
      }
      return known
    }
    if (manualSlots.size >= MAX_MANUAL_POLICIES) {
      throw new SluiceError(ErrorCodes.INVALID_OPTION, `@sluice: at most ${MAX_MANUAL_POLICIES} distinct policies in manual acquires`)
    }
    const binding = core.bind([resolved], [manualBucketId(resolved.name)], () => 'policy.name', false)
    manualSlots.set(resolved.name, binding)
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
    assertKnownPolicyOptions(policy, POLICY_KEYS, 'policy.')
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
    // Another limiter on this store and prefix may check this manual policy with other numbers.
    const binding = core.bind([resolved], [manualBucketId(resolved.name)], () => 'policy.name', false)
    manualPolicies.set(resolved.name, binding)
    return binding
  }

  return Object.freeze({
    stats: () => core.stats(),

    settle: (result: RateLimitResult, actualCost: number): Promise<void> => core.settler.settle(result, actualCost),

    async reset(client: ClientRef): Promise<void> {
      const keys = core.forget(clientIdOf(client, options.ipv6Subnet))
      try {
        await door.reset(keys, deadlineIn(options.timeoutMs))
      } catch (error) {
        throw unavailable(error)
      }
    },

    async peek(client: ClientRef & { readonly tier?: string }): Promise<RateLimitResult> {
      const clientId = clientIdOf(client, options.ipv6Subnet)
      const binding = own.tier(client.tier)
      // A peek reads token buckets; an in-flight limit's slots are not part of it.
      if (binding.policies.length === 0) {
        throw new SluiceError(
          ErrorCodes.INVALID_ARGUMENT,
          '@sluice: peek() reads token buckets, and these policies have none (only in-flight limits)',
        )
      }
      const keys = core.keys(clientId, binding)
      const request = { keys, policies: binding.policies, cost: 1, dryRun: true }
      try {
        const [reply] = await door.run([{ op: 'peek', request }], deadlineIn(options.timeoutMs))
        return summarize(checkedReply(reply, request, door.kind), binding.policies, keys, 1, false)
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
      let binding = manualBinding(checkOptions.policy)
      if (binding === undefined) {
        const chosen = own.for(request)
        binding = part(bucketsOnly, isThenable(chosen) ? await chosen : chosen, false)
        if (binding.policies.length === 0) {
          throw new SluiceError(
            ErrorCodes.INVALID_ARGUMENT,
            '@sluice: check() measures token buckets and this limiter has none; take an in-flight slot with acquire()',
          )
        }
      }
      const tokens = checkedCost(checkOptions.cost ?? 1)
      const { result, source } = await core.measure(manualClientId(checkOptions.key), binding, tokens, 'manual')
      if (result === undefined) {
        throw new SluiceError(
          ErrorCodes.STORE_UNAVAILABLE,
          `@sluice: the store is unavailable and the failure mode is '${source}': nothing was measured`,
        )
      }
      return result
    },

    async acquire(request: Req, acquireOptions: ManualAcquireOptions): Promise<Acquired> {
      if (!isPlainObject(acquireOptions)) {
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, "@sluice: acquire() needs options, as acquire(request, { key: '<key>' })")
      }
      assertKnownOptions(acquireOptions, ['key', 'policy'], '')
      if (typeof acquireOptions.key !== 'string' || acquireOptions.key === '') {
        throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, '@sluice: acquire() needs a non-empty string `key`')
      }
      let binding = manualSlotBinding(acquireOptions.policy)
      if (binding === undefined) {
        const chosen = own.for(request)
        binding = part(slotsOnly, isThenable(chosen) ? await chosen : chosen, true)
        if (binding.slots.length === 0) {
          throw new SluiceError(
            ErrorCodes.INVALID_ARGUMENT,
            '@sluice: acquire() takes an in-flight slot and this limiter has no `concurrency` policy; pass one as `policy`',
          )
        }
      }
      const { result, source, lease } = await core.measure(manualClientId(acquireOptions.key), binding, 1, 'manual')
      if (result === undefined) {
        throw new SluiceError(
          ErrorCodes.STORE_UNAVAILABLE,
          `@sluice: the store is unavailable and the failure mode is '${source}': no slot was taken`,
        )
      }
      const release = lease === undefined ? () => Promise.resolve() : () => lease.release()
      return Object.freeze({ allowed: result.allowed, result, release })
    },
  })
}
