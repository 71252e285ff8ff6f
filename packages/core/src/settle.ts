import { deadlineIn } from './deadline.js'
import type { EndStep } from './end-steps.js'
import { ErrorCodes, SluiceError } from './errors.js'
import type { Failover } from './failover.js'
import { notify } from './observer.js'
import { isThenable } from './thenable.js'
import type { RateLimitResult, SettleOption, SettleRequest, SluiceLogger, SluiceObserver } from './types.js'
import { WarningCodes, WarnThrottle } from './warnings.js'

/** The largest actual cost a settle takes: the same bound as a cost. */
const MAX_ACTUAL = 2 ** 31

export interface SettlerOptions {
  readonly failover: Failover
  readonly observer: SluiceObserver | undefined
  readonly logger: SluiceLogger
  /** A settle's time budget: a check's. */
  readonly timeoutMs: number
}

/** Settle counters, for `stats()`. */
export interface SettleStats {
  readonly settlesApplied: number
  readonly settlesDropped: number
  readonly settlesFailed: number
  readonly settleRefundedTokens: number
  readonly settleExtraTokens: number
}

const isActualCost = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_ACTUAL

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value)
  return value === null ? 'null' : typeof value
}

/**
 * Costs settled after the response (issue 21). Every admitted result this limiter gives is
 * tracked (a `WeakMap`, so a result dies with its request) until it is settled, once: by the
 * `settle` option at the response's end, or by hand with `settle(result, actualCost)`,
 * whichever comes first. A settle applies `actual − cost` to the buckets the check took from, as
 * captured in the result at admission (its keys and shapes, never recomputed), where the check
 * was answered: the store (or nothing, if it fails), or this replica's local buckets. Never
 * retried: a settle that is not applied is dropped, counted and warned, so it never charges
 * twice; the reservation stands (the conservative side).
 */
export class Settler<Req> {
  readonly #options: SettlerOptions
  /** true: admitted and not yet settled; false: settled (or its settle given up). */
  readonly #open = new WeakMap<RateLimitResult, boolean>()
  readonly #failedWarn: WarnThrottle
  readonly #droppedWarn: WarnThrottle
  #applied = 0
  #dropped = 0
  #failed = 0
  #refunded = 0
  #extra = 0

  constructor(options: SettlerOptions) {
    this.#options = options
    this.#failedWarn = new WarnThrottle(options.logger, WarningCodes.SETTLE_FAILED)
    this.#droppedWarn = new WarnThrottle(options.logger, WarningCodes.SETTLE_DROPPED)
  }

  get stats(): SettleStats {
    return {
      settlesApplied: this.#applied,
      settlesDropped: this.#dropped,
      settlesFailed: this.#failed,
      settleRefundedTokens: this.#refunded,
      settleExtraTokens: this.#extra,
    }
  }

  /** An admitted result this limiter gave: it may be settled, once. */
  issue(result: RateLimitResult): void {
    this.#open.set(result, true)
  }

  /** `settle(result, actualCost)` by hand. */
  async settle(result: RateLimitResult, actualCost: number, route = 'manual'): Promise<void> {
    const open = typeof result === 'object' && result !== null ? this.#open.get(result) : undefined
    if (open === undefined) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        "@sluice: settle() takes an admitted result this limiter gave (request.rateLimit, or check()'s), as it was given, not a copy",
      )
    }
    if (!open) throw new SluiceError(ErrorCodes.ALREADY_SETTLED, '@sluice: this result was already settled; a result settles once')
    if (!isActualCost(actualCost)) {
      throw new SluiceError(
        ErrorCodes.INVALID_ARGUMENT,
        `@sluice: settle()'s actualCost must be a whole number from 0 to ${MAX_ACTUAL}; got ${describe(actualCost)}`,
      )
    }
    this.#open.set(result, false)
    await this.#apply(result, actualCost, route)
  }

  /** The end step of a route whose `settle` option is `fn`. */
  step(fn: SettleOption<Req, unknown>): EndStep<Req, unknown> {
    return ({ route, result }) =>
      (request, reply) => {
        // Settled by hand already (or never ours): nothing left to do.
        if (this.#open.get(result) !== true) return
        this.#open.set(result, false)
        let actual: unknown
        try {
          actual = fn(request, reply)
          if (isThenable(actual)) {
            Promise.resolve(actual).then(
              (value) => this.#fromUser(result, value, route),
              (error: unknown) => this.#userFailed(route, 'rejected', error),
            )
            return
          }
        } catch (error) {
          this.#userFailed(route, 'threw', error)
          return
        }
        this.#fromUser(result, actual, route)
      }
  }

  #fromUser(result: RateLimitResult, value: unknown, route: string): void {
    // Undefined keeps the reservation: nothing to send.
    if (value === undefined) return
    if (!isActualCost(value)) {
      this.#userFailed(route, `returned ${describe(value)}`, undefined)
      return
    }
    void this.#apply(result, value, route)
  }

  #userFailed(route: string, what: string, error: unknown): void {
    this.#failed++
    this.#failedWarn.warn(
      {
        route,
        ...(error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) }),
        settlesFailed: this.#failed,
      },
      `@sluice: the \`settle\` function ${what}, so the reservation stands; return a whole number of tokens from 0 to ${MAX_ACTUAL}, or undefined to keep the reservation`,
    )
  }

  /** Apply `actual − cost` where the check was answered. Never rejects. */
  async #apply(result: RateLimitResult, actual: number, route: string): Promise<void> {
    const delta = actual - result.cost
    const taken = result.policies.filter((p) => p.taken)
    let applied = true
    if (delta !== 0 && taken.length > 0) {
      const request: SettleRequest = { keys: taken.map((p) => p.key), policies: taken.map((p) => p.policy), delta }
      const reply = await this.#options.failover.settle(request, result.degraded, deadlineIn(this.#options.timeoutMs))
      applied = reply !== undefined
    }
    const refundedTokens = applied && delta < 0 ? -delta : 0
    const extraTokens = applied && delta > 0 ? delta : 0
    if (applied) {
      this.#applied++
      this.#refunded += refundedTokens
      this.#extra += extraTokens
    } else {
      this.#dropped++
      this.#droppedWarn.warn(
        { route, delta, settlesDropped: this.#dropped },
        `@sluice: a settle of ${delta > 0 ? '+' : ''}${delta} tokens could not be applied (the store failed or was too slow), so the reservation stands; it is not retried, so it never charges twice`,
      )
    }
    notify(this.#options.observer, 'settle', { route, outcome: applied ? 'applied' : 'dropped', refundedTokens, extraTokens })
  }
}
