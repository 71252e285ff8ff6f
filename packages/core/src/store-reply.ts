import { admits } from './bucket.js'
import { ErrorCodes, SluiceError } from './errors.js'
import { ignoreRejection, isThenable } from './thenable.js'
import type { CheckReply, CheckRequest, CheckStatus } from './types.js'

/**
 * A store's answer is checked field by field before anything is summarized or sent: a custom
 * store that answers `null`, `{}` or `remaining: undefined` has failed, like one that throws, and
 * the failure mode answers; its garbage never becomes a 500 or a header that says "undefined".
 */

const STATUSES: ReadonlySet<unknown> = new Set<CheckStatus>(['allowed', 'denied', 'cost-exceeds-capacity'])

const whole = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0

/** Why `reply` is no reply for `request`; undefined when it is one. */
export function replyFault(reply: unknown, request: CheckRequest): string | undefined {
  if (isThenable(reply)) return 'a promise where an answer was due'
  if (reply === null || typeof reply !== 'object') return `${reply === null ? 'null' : typeof reply} instead of a reply`
  const { admitted, buckets } = reply as Partial<Record<keyof CheckReply, unknown>>
  if (typeof admitted !== 'boolean') return '`admitted` is not true or false'
  if (!Array.isArray(buckets) || buckets.length !== request.keys.length) {
    return `\`buckets\` is not a list of ${request.keys.length} bucket${request.keys.length === 1 ? '' : 's'}`
  }
  const statuses: CheckStatus[] = []
  for (let i = 0; i < buckets.length; i++) {
    const fault = bucketFault(buckets[i], request, i, admitted)
    if (fault !== undefined) return `bucket ${i}: ${fault}`
    statuses.push((buckets[i] as { status: CheckStatus }).status)
  }
  const slotsFit = slotsFault(reply as { slots?: unknown }, request, admitted)
  if (typeof slotsFit === 'string') return slotsFit
  if (admitted !== (admits(statuses, request.policies) && slotsFit)) {
    return `\`admitted\` is ${admitted}, but the buckets' and slots' statuses say otherwise`
  }
  return undefined
}

/** Why a reply's slots are no answer to the request's; else whether every slot was free. */
function slotsFault(reply: { slots?: unknown }, request: CheckRequest, admitted: boolean): string | boolean {
  const asked = request.slots?.length ?? 0
  if (asked === 0) return true
  const { slots } = reply
  if (!Array.isArray(slots) || slots.length !== asked) return `\`slots\` is not a list of ${asked} slot${asked === 1 ? '' : 's'}`
  let fit = true
  for (let i = 0; i < asked; i++) {
    const s = slots[i] as Record<string, unknown> | null
    if (s === null || typeof s !== 'object') return `slot ${i}: not a slot`
    if (s.status !== 'allowed' && s.status !== 'denied') return `slot ${i}: \`status\` is not allowed or denied`
    if (typeof s.taken !== 'boolean' || (s.taken && !(admitted && s.status === 'allowed'))) return `slot ${i}: \`taken\` is wrong`
    if (!whole(s.free) || s.free > request.slots![i]!.limit) return `slot ${i}: \`free\` is not a whole number from 0 to its limit`
    if (s.status !== 'allowed') fit = false
  }
  return fit
}

function bucketFault(bucket: unknown, request: CheckRequest, i: number, admitted: boolean): string | undefined {
  if (bucket === null || typeof bucket !== 'object') return `${bucket === null ? 'null' : typeof bucket} instead of a bucket`
  const b = bucket as Record<string, unknown>
  const policy = request.policies[i]!
  if (!STATUSES.has(b.status)) return '`status` is not allowed, denied or cost-exceeds-capacity'
  // Only a cost above the capacity can never be afforded: anything else turns a 429 into a 403.
  if ((b.status === 'cost-exceeds-capacity') !== request.cost > policy.capacity) return `\`status\` is ${String(b.status)} for that cost`
  if (typeof b.taken !== 'boolean') return '`taken` is not true or false'
  if (b.taken && !(admitted && b.status === 'allowed')) return '`taken` from a bucket that did not pay'
  if (!whole(b.remaining) || b.remaining > policy.capacity) return `\`remaining\` is not a whole number from 0 to ${policy.capacity}`
  const never = b.status === 'cost-exceeds-capacity' && b.retryAfterMs === Number.POSITIVE_INFINITY
  if (!never && !whole(b.retryAfterMs)) return '`retryAfterMs` is not a whole number ≥ 0'
  if (!whole(b.resetMs)) return '`resetMs` is not a whole number ≥ 0'
  if (!whole(b.nextTokenMs)) return '`nextTokenMs` is not a whole number ≥ 0'
  return undefined
}

/** The reply, or the store failure it is (`ERR_SLUICE_STORE_REPLY`, naming what is wrong). */
export function checkedReply(reply: unknown, request: CheckRequest, store: string): CheckReply {
  const fault = replyFault(reply, request)
  if (fault === undefined) return reply as CheckReply
  // A promise from `cached()` is never awaited, so its rejection is nobody's to handle.
  ignoreRejection(reply)
  throw new SluiceError(ErrorCodes.STORE_REPLY, `@sluice: the ${store} store answered something that is not a reply (${fault})`)
}
