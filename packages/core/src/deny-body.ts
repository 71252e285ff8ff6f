import { failureText } from './errors.js'
import { costExceedsCapacity, customDenial, problemDenial, quotaExceededDenial } from './problem.js'
import { isThenable } from './thenable.js'
import type { Denial, DenyBody, RateLimitResult } from './types.js'
import type { WarnThrottle } from './warnings.js'

/** The default 429 or 403: the problem object. */
export function defaultDenial(result: RateLimitResult): Denial {
  return result.status === 'denied' ? quotaExceededDenial(result) : problemDenial(costExceedsCapacity(result))
}

/**
 * The 429 or 403 to send: the app's own body when it gives one, the problem object otherwise.
 * A `denyBody` that throws, rejects, or answers what cannot be sent (neither an object nor a
 * string, a BigInt field, a cycle) gets the default body and a warning: the decision stands.
 * Synchronous unless `denyBody` returns a promise (or any thenable), which is awaited.
 */
export function denialFor<Req>(
  denyBody: DenyBody<Req> | undefined,
  failed: WarnThrottle,
  result: RateLimitResult,
  request: Req,
): Denial | Promise<Denial> {
  if (denyBody === undefined) return defaultDenial(result)
  const status = result.status === 'denied' ? 429 : 403
  const fallBack = (reason: string): Denial => {
    failed.warn(
      { reason },
      '@sluice: the denyBody function failed, or its body could not be sent (neither an object nor a string, or not serializable as JSON); the default body was sent',
    )
    return defaultDenial(result)
  }
  const send = (body: unknown): Denial => {
    try {
      return customDenial(status, body)
    } catch (error) {
      return fallBack(failureText(error))
    }
  }
  let body: unknown
  let thenable: boolean
  try {
    body = denyBody(result, request)
    thenable = isThenable(body)
  } catch (error) {
    return fallBack(`threw: ${failureText(error)}`)
  }
  if (!thenable) return send(body)
  return Promise.resolve(body).then(send, (error: unknown) => fallBack(`rejected: ${failureText(error)}`))
}
