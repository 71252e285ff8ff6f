import { admits, describeBucket } from '../bucket.js'
import { ErrorCodes, SluiceError } from '../errors.js'
import { describeSlot } from '../slots.js'
import type { BucketPolicy, CheckRequest, CheckStatus, CheckStep, LeaseOp, SlotReply } from '../types.js'

/** One operation of a batch: a check (with slots or not), or a lease's renewal or release. */
export type WireOp = CheckRequest | LeaseOp

/** What one operation answered: a check's step, or whether the lease was live (renewed) or there (released). */
export type WireStep = CheckStep | boolean

/** Whether an operation of a batch is a lease's renewal or release. */
export function isLeaseOp(op: WireOp): op is LeaseOp {
  return (op as LeaseOp).lease !== undefined
}

/** The key an operation's cluster slot is found by: its first bucket's, or its first slot set's. */
export function firstKey(op: WireOp): string {
  return isLeaseOp(op) ? op.lease.key : (op.keys[0] ?? op.slots![0]!.key)
}

/**
 * A head's kind (bits 5 to 7): 0 a check, 1 a dry run of one, 2–3 settling (issue 21), 4 a
 * check that also takes slots, 5 a renewal, 6 a release.
 */
export const Kind = { check: 0, dry: 1, slots: 4, renew: 5, release: 6 } as const

/** The token-bucket script's KEYS and ARGV for a batch of checks (layout in token-bucket.ts). */
export interface EncodedBatch {
  readonly keys: string[]
  readonly args: (number | string)[]
}

/** The most buckets one check may cover: its count travels in five bits of its head. */
export const MAX_BUCKETS_PER_CHECK = 31
/** The largest cost, exclusive: the cost travels in the 45 bits of the head above count and kind. */
export const COST_LIMIT = 2 ** 45
/** The most slots one check may ask for (a request's in-flight limits: at most 16 policies). */
export const MAX_SLOTS_PER_CHECK = 31

/**
 * Refuse, with a coded error, a check the wire format cannot carry: more than 31 buckets or
 * slots, none of either, a cost outside 1 to 2^45 − 1, keys and policies that do not pair up, or
 * a dry run that asks for slots. The limiter never makes one (16 policies, a cost up to 2^31); a
 * direct store call can.
 */
export function assertEncodable(check: CheckRequest): void {
  const n = check.keys.length
  const m = check.slots?.length ?? 0
  if (n > MAX_BUCKETS_PER_CHECK || check.policies.length !== n || m > MAX_SLOTS_PER_CHECK || n + m === 0) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `@sluice: a check covers 1 to ${MAX_BUCKETS_PER_CHECK} buckets (one policy per key) and up to ${MAX_SLOTS_PER_CHECK} slots, at least one of either; got ${n} keys, ${check.policies.length} policies and ${m} slots`,
    )
  }
  if (m > 0 && check.dryRun === true) throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, '@sluice: a dry run takes no slots')
  const { cost } = check
  if (!Number.isInteger(cost) || cost < 1 || cost >= COST_LIMIT) {
    throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `@sluice: a check's cost must be a whole number from 1 to 2^45 − 1; got ${cost}`)
  }
}

/** A head: magnitude × 256 + kind × 32 + n, in one number (exact: < 2^53). */
function head(magnitude: number, kind: number, n: number): number {
  return magnitude * 256 + kind * 32 + n
}

function checkKind(check: CheckRequest): number {
  return check.slots !== undefined && check.slots.length > 0 ? Kind.slots : check.dryRun === true ? Kind.dry : Kind.check
}

/**
 * Encode a batch: each distinct key and each distinct bucket shape is sent once, and each check
 * refers to them by index, so fifty checks of one hot key cost Redis one read and one write.
 * A check is its head (cost, dry flag, bucket count in one number) and one number per bucket
 * (its key and shape in one); layout in token-bucket.ts. Throws ERR_SLUICE_INVALID_ARGUMENT for
 * a check `assertEncodable` refuses.
 */
export function encodeBatch(checks: readonly WireOp[], deadlineUs: number): EncodedBatch {
  const keys: string[] = []
  const keyIndex = new Map<string, number>()
  const indexOf = (key: string): number => {
    let k = keyIndex.get(key)
    if (k === undefined) {
      k = keys.push(key) - 1
      keyIndex.set(key, k)
    }
    return k
  }
  const shapes: BucketPolicy[] = []
  const shapeIndex = new Map<BucketPolicy, number>()
  // Per bucket reference: its key's and its shape's index (from 0), combined once K is known.
  const refs: number[] = []
  for (const check of checks) {
    if (isLeaseOp(check)) {
      indexOf(check.lease.key)
      continue
    }
    assertEncodable(check)
    for (const slot of check.slots ?? []) indexOf(slot.key)
    for (let i = 0; i < check.keys.length; i++) {
      const k = indexOf(check.keys[i]!)
      // Shapes are the limiter's frozen policy objects: identity finds the common case, and an
      // equal shape under another object only costs two more numbers.
      const policy = check.policies[i]!
      let p = shapeIndex.get(policy)
      if (p === undefined) {
        p = shapes.push(policy) - 1
        shapeIndex.set(policy, p)
      }
      refs.push(k, p)
    }
  }
  const K = keys.length
  const only = checks[0]!
  if (checks.length === 1 && K === 1 && !isLeaseOp(only) && checkKind(only) !== Kind.slots) {
    // One check of one bucket: its own four-argument layout.
    const shape = shapes[0]!
    return {
      keys,
      args: [deadlineUs, shape.intervalNs, shape.shadow ? -shape.capacity : shape.capacity, head(only.cost, checkKind(only), 1)],
    }
  }
  // Lease ids go as strings: the script uses them as sorted-set members, unchanged.
  const args: (number | string)[] = [deadlineUs, shapes.length]
  for (const shape of shapes) args.push(shape.intervalNs, shape.shadow ? -shape.capacity : shape.capacity)
  let r = 0
  for (const check of checks) {
    if (isLeaseOp(check)) {
      const { lease } = check
      const renew = check.op === 'renew'
      args.push(head(renew ? lease.leaseMs : 0, renew ? Kind.renew : Kind.release, 1), keyIndex.get(lease.key)! + 1, lease.leaseId)
      continue
    }
    const n = check.keys.length
    const kind = checkKind(check)
    args.push(head(check.cost, kind, n))
    for (let i = 0; i < n; i++, r += 2) args.push(refs[r + 1]! * K + refs[r]! + 1)
    if (kind === Kind.slots) {
      const slots = check.slots!
      args.push(slots.length)
      for (const slot of slots) args.push(keyIndex.get(slot.key)! + 1, slot.limit, slot.leaseMs, slot.leaseId)
    }
  }
  return { keys, args }
}

/** What the script answered for a batch. */
export interface DecodedBatch<Step = WireStep> {
  /** Redis TIME when the script ran, in µs since the epoch. */
  readonly redisTimeUs: number
  /** False when the batch arrived after its deadline: nothing was read or taken. */
  readonly ran: boolean
  /** Per operation: a check's reply and every bucket's debt after it (for the deny cache), or a lease op's answer. */
  readonly steps: readonly Step[]
}

function malformed(what: string): SluiceError {
  return new SluiceError(ErrorCodes.STORE_REPLY, `@sluice: the token-bucket script returned an unexpected reply (${what})`)
}

/** Read the script's flat integer reply back into one step per check (or lease op). */
export function decodeBatch(raw: unknown, checks: readonly CheckRequest[]): DecodedBatch<CheckStep>
export function decodeBatch(raw: unknown, checks: readonly WireOp[]): DecodedBatch
export function decodeBatch(raw: unknown, checks: readonly WireOp[]): DecodedBatch {
  if (!Array.isArray(raw) || raw.length === 0) throw malformed('not a non-empty array')
  const redisTimeUs = raw[0] as unknown
  if (typeof redisTimeUs !== 'number') throw malformed(`item 0 is ${typeof redisTimeUs}`)
  if (raw.length === 1) return { redisTimeUs, ran: false, steps: [] }
  let at = 1
  const next = (): number => {
    const value = raw[at++] as unknown
    if (typeof value !== 'number') throw malformed(`item ${at - 1} is ${typeof value}`)
    return value
  }
  const steps = checks.map((check): WireStep => {
    if (isLeaseOp(check)) {
      const value = next()
      if (value !== 0 && value !== 1) throw malformed(`a lease answered ${value}`)
      return value === 1
    }
    const { policies, cost, dryRun, slots } = check
    const statuses: CheckStatus[] = []
    const debtsNs: number[] = []
    for (let i = 0; i < policies.length; i++) {
      const value = raw[at++] as unknown
      if (typeof value !== 'number') throw malformed(`item ${at - 1} is ${typeof value}`)
      const fits = value >= 0
      if (fits && cost > policies[i]!.capacity) throw malformed('a cost above the capacity read as affordable')
      statuses.push(fits ? 'allowed' : cost > policies[i]!.capacity ? 'cost-exceeds-capacity' : 'denied')
      debtsNs.push(fits ? value : -1 - value)
    }
    if (slots === undefined || slots.length === 0) {
      const admitted = admits(statuses, policies)
      const pays = admitted && dryRun !== true
      const buckets = policies.map((policy, i) => describeBucket(debtsNs[i]!, policy, cost, statuses[i]!, pays))
      return { reply: { admitted, buckets }, debtsNs }
    }
    // Per slot: the live leases before the check, as live if one was free, −1 − live if not.
    const lives = slots.map(() => next())
    const admitted = admits(statuses, policies) && lives.every((live) => live >= 0)
    const buckets = policies.map((policy, i) => describeBucket(debtsNs[i]!, policy, cost, statuses[i]!, admitted))
    const replies: SlotReply[] = slots.map((slot, i) => {
      const live = lives[i]!
      const fits = live >= 0
      if (fits && live >= slot.limit) throw malformed('a full slot set read as free')
      return describeSlot(fits ? live : -1 - live, slot, fits, admitted)
    })
    return { reply: { admitted, buckets, slots: replies }, debtsNs }
  })
  if (at !== raw.length) throw malformed(`${raw.length - at} values left over`)
  return { redisTimeUs, ran: true, steps }
}
