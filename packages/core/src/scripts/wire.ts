import { ceilMs } from '../bucket.js'
import { ErrorCodes, SluiceError } from '../errors.js'
import type { BucketReply, CheckRequest, CheckStatus, CheckStep } from '../types.js'

/** The token-bucket script's KEYS and ARGV for a batch of checks (layout in token-bucket.ts). */
export function encodeChecks(checks: readonly CheckRequest[]): { keys: string[]; args: number[] } {
  const keys: string[] = []
  const args: number[] = []
  for (const check of checks) {
    args.push(check.buckets.length)
    for (const b of check.buckets) {
      keys.push(b.key)
      args.push(b.intervalNs, b.capacity, b.cost, b.enforce ? 1 : 0)
    }
  }
  return { keys, args }
}

const STATUS: Record<number, CheckStatus> = { 0: 'denied', 1: 'allowed', 2: 'cost-exceeds-capacity' }

function malformed(what: string): SluiceError {
  return new SluiceError(ErrorCodes.STORE_REPLY, `@sluice: the token-bucket script returned an unexpected reply (${what})`)
}

/** Read the script's flat integer reply back into one step per check. */
export function decodeReply(raw: unknown, checks: readonly CheckRequest[]): CheckStep[] {
  if (!Array.isArray(raw)) throw malformed('not an array')
  let at = 0
  const read = (): number => {
    const value = raw[at++]
    if (typeof value !== 'number') throw malformed(`item ${at - 1} is ${typeof value}`)
    return value
  }
  return checks.map((check) => {
    const admitted = read() === 1
    const debtsNs: number[] = []
    const buckets = check.buckets.map((bucket): BucketReply => {
      const status = STATUS[read()]
      if (status === undefined) throw malformed('unknown status')
      const taken = read() === 1
      const remaining = Math.max(0, read())
      const retry = read()
      const resetMs = read()
      const debt = read()
      debtsNs.push(debt)
      const window = bucket.capacity * bucket.intervalNs
      return {
        status,
        taken,
        remaining,
        retryAfterMs: status === 'cost-exceeds-capacity' ? Number.POSITIVE_INFINITY : retry,
        resetMs,
        nextTokenMs: remaining > 0 ? 0 : ceilMs(debt + bucket.intervalNs - window),
      }
    })
    return { reply: { admitted, buckets }, debtsNs }
  })
}
