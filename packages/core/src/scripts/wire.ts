import { admits, describeBucket } from '../bucket.js'
import { ErrorCodes, SluiceError } from '../errors.js'
import type { BucketPolicy, CheckReply, CheckRequest, CheckStatus } from '../types.js'

/** The token-bucket script's KEYS and ARGV for a batch of checks (layout in token-bucket.ts). */
export interface EncodedBatch {
  readonly keys: string[]
  readonly args: number[]
}

/**
 * Encode a batch: each distinct key and each distinct bucket shape is sent once, and each check
 * refers to them by index, so fifty checks of one hot key cost Redis one read and one write.
 */
export function encodeBatch(checks: readonly CheckRequest[], deadlineUs: number): EncodedBatch {
  const keys: string[] = []
  const keyIndex = new Map<string, number>()
  const shapes: BucketPolicy[] = []
  const shapeIndex = new Map<BucketPolicy, number>()
  const body: number[] = []
  for (const check of checks) {
    // A dry run travels as a negative cost: the script answers as for that cost and takes nothing.
    body.push(check.keys.length, check.dryRun === true ? -check.cost : check.cost)
    for (let i = 0; i < check.keys.length; i++) {
      const key = check.keys[i]!
      let k = keyIndex.get(key)
      if (k === undefined) {
        k = keys.push(key)
        keyIndex.set(key, k)
      }
      // Shapes are the limiter's frozen policy objects: identity finds the common case, and an
      // equal shape under another object only costs three more numbers.
      const policy = check.policies[i]!
      let p = shapeIndex.get(policy)
      if (p === undefined) {
        p = shapes.push(policy)
        shapeIndex.set(policy, p)
      }
      body.push(k, p)
    }
  }
  const args: number[] = [deadlineUs, shapes.length]
  for (const shape of shapes) args.push(shape.intervalNs, shape.capacity, shape.shadow ? 0 : 1)
  for (const value of body) args.push(value)
  return { keys, args }
}

/** What the script answered for a batch. */
export interface DecodedBatch {
  /** Redis TIME when the script ran, in µs since the epoch. */
  readonly redisTimeUs: number
  /** False when the batch arrived after its deadline: nothing was read or taken. */
  readonly ran: boolean
  /** Per check: its reply, and every bucket's debt after it (for the deny cache). */
  readonly steps: ReadonlyArray<{ readonly reply: CheckReply; readonly debtsNs: readonly number[] }>
}

const STATUS: readonly CheckStatus[] = ['denied', 'allowed', 'cost-exceeds-capacity']

function malformed(what: string): SluiceError {
  return new SluiceError(ErrorCodes.STORE_REPLY, `@sluice: the token-bucket script returned an unexpected reply (${what})`)
}

/** Read the script's flat integer reply back into one step per check. */
export function decodeBatch(raw: unknown, checks: readonly CheckRequest[]): DecodedBatch {
  if (!Array.isArray(raw)) throw malformed('not an array')
  let at = 0
  const read = (): number => {
    const value = raw[at++]
    if (typeof value !== 'number') throw malformed(`item ${at - 1} is ${typeof value}`)
    return value
  }
  const redisTimeUs = read() * 1_000_000 + read()
  const ran = read() === 1
  if (!ran) return { redisTimeUs, ran, steps: [] }
  const steps = checks.map(({ policies, cost, dryRun }) => {
    const statuses: CheckStatus[] = []
    const debtsNs: number[] = []
    for (let i = 0; i < policies.length; i++) {
      const status = STATUS[read()]
      if (status === undefined) throw malformed('unknown status')
      statuses.push(status)
      debtsNs.push(read())
    }
    const admitted = admits(statuses, policies)
    const pays = admitted && dryRun !== true
    const buckets = policies.map((policy, i) => describeBucket(debtsNs[i]!, policy, cost, statuses[i]!, pays))
    return { reply: { admitted, buckets }, debtsNs }
  })
  if (at !== raw.length) throw malformed(`${raw.length - at} values left over`)
  return { redisTimeUs, ran, steps }
}
