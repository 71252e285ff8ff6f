import { admits, describeBucket } from '../bucket.js'
import { ErrorCodes, SluiceError } from '../errors.js'
import { describeSlot } from '../slots.js'
import type { BucketPolicy, CheckRequest, CheckStatus, CheckStep, LeaseOp, SettleRequest, SlotReply, WireOp } from '../types.js'

/** The token-bucket script's KEYS and ARGV for a batch of operations (layout in token-bucket.ts). */
export interface EncodedBatch {
  readonly keys: string[]
  /** Numbers, and lease ids as strings (the script uses them as sorted-set members, unchanged). */
  readonly args: (number | string)[]
}

/** The most buckets one operation may cover: its count travels in five bits of its head. */
export const MAX_BUCKETS_PER_CHECK = 31
/** The largest magnitude (a cost), exclusive: it travels in the 45 bits of the head above kind and count. */
export const COST_LIMIT = 2 ** 45
/** The most in-flight slots one check may take (a request has at most 16 policies). */
export const MAX_SLOTS_PER_CHECK = 31

/**
 * What an operation does, as its head's three kind bits carry it (token-bucket.ts lists them).
 * Kinds 4 to 6 are in-flight leases (issue 22); the script refuses 7.
 */
export const OpKinds = Object.freeze({
  /** Take `magnitude` tokens from every bucket, all or nothing. */
  check: 0,
  /** Answer as a check would, take nothing. */
  peek: 1,
  /** Settle: `magnitude` tokens more debt on every bucket (up to its capacity below empty). */
  charge: 2,
  /** Settle: `magnitude` tokens back to every bucket (never above full; a missing key is left alone). */
  refund: 3,
  /** A check that also takes in-flight slots (`slots`), all or nothing with its buckets (n may be 0). */
  slots: 4,
  /** Renew a lease (`lease`) if it is live, for `magnitude` ms more; never resurrect an expired one. */
  renew: 5,
  /** Release a lease (`lease`). */
  release: 6,
} as const)

/** The wire operation of a check or a dry run (a check with slots is kind 4). */
export function checkOp(check: CheckRequest): WireOp {
  if (check.slots !== undefined && check.slots.length > 0) {
    return { kind: OpKinds.slots, magnitude: check.cost, keys: check.keys, policies: check.policies, slots: check.slots }
  }
  return { kind: check.dryRun === true ? OpKinds.peek : OpKinds.check, magnitude: check.cost, keys: check.keys, policies: check.policies }
}

/** The wire operation of a lease's renewal or release. */
export function leaseOp({ op, lease }: LeaseOp): WireOp {
  return op === 'renew'
    ? { kind: OpKinds.renew, magnitude: lease.leaseMs, keys: [], policies: [], lease }
    : { kind: OpKinds.release, magnitude: 0, keys: [], policies: [], lease }
}

const isLeaseKind = (kind: number): boolean => kind === OpKinds.renew || kind === OpKinds.release

/** The key an operation's cluster slot is found by: its first bucket's, else its first slot set's or its lease's. */
export function firstKey(op: WireOp): string {
  return op.keys[0] ?? op.slots?.[0]?.key ?? op.lease!.key
}

/** The wire operation of a settle: an extra charge for a positive delta, a refund for a negative one. */
export function settleOp(settle: SettleRequest): WireOp {
  const { delta } = settle
  return { kind: delta > 0 ? OpKinds.charge : OpKinds.refund, magnitude: Math.abs(delta), keys: settle.keys, policies: settle.policies }
}

/**
 * Refuse, with a coded error, an operation the wire format cannot carry: more than 31 buckets, a
 * cost (magnitude) outside 1 to 2^45 − 1, a kind outside 0 to 7, or keys and policies that do
 * not pair up. The limiter never makes one (16 policies, a cost up to 2^31); a direct store
 * call can.
 */
export function assertEncodable(check: CheckRequest | WireOp): void {
  const kind = 'kind' in check ? check.kind : undefined
  if (kind !== undefined && isLeaseKind(kind)) {
    if ((check as WireOp).lease === undefined || check.keys.length > 0) {
      throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, '@sluice: a lease operation carries one lease and no buckets')
    }
    return
  }
  const n = check.keys.length
  const m = check.slots?.length ?? 0
  // A check that takes slots may have no bucket (an in-flight limit alone).
  const least = m > 0 ? 0 : 1
  if (n < least || n > MAX_BUCKETS_PER_CHECK || check.policies.length !== n || m > MAX_SLOTS_PER_CHECK) {
    throw new SluiceError(
      ErrorCodes.INVALID_ARGUMENT,
      `@sluice: a check covers 1 to ${MAX_BUCKETS_PER_CHECK} buckets (one policy per key), or up to ${MAX_SLOTS_PER_CHECK} slots and 0 or more buckets; got ${n} keys, ${check.policies.length} policies and ${m} slots`,
    )
  }
  if (m > 0 && (kind ?? OpKinds.slots) !== OpKinds.slots) {
    throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, '@sluice: only a check (not a dry run or a settle) takes slots')
  }
  if (m > 0 && 'dryRun' in check && check.dryRun === true) {
    throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, '@sluice: a dry run takes no slots')
  }
  const cost = 'magnitude' in check ? check.magnitude : check.cost
  if (!Number.isInteger(cost) || cost < 1 || cost >= COST_LIMIT) {
    throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `@sluice: a check's cost must be a whole number from 1 to 2^45 − 1; got ${cost}`)
  }
  if ('kind' in check && !(Number.isInteger(check.kind) && check.kind >= 0 && check.kind <= 7)) {
    throw new SluiceError(ErrorCodes.INVALID_ARGUMENT, `@sluice: an operation's kind must be a whole number from 0 to 7; got ${check.kind}`)
  }
}

/** An operation's head: magnitude, kind and bucket count in one number (exact: < 2^53). */
function headOf(op: WireOp): number {
  return op.magnitude * 256 + op.kind * 32 + op.keys.length
}

/**
 * Encode a batch: each distinct key and each distinct bucket shape is sent once, and each
 * operation refers to them by index, so fifty checks of one hot key cost Redis one read and one
 * write. An operation is its head (magnitude, kind, bucket count in one number) and one number
 * per bucket (its key and shape in one); layout in token-bucket.ts. Throws
 * ERR_SLUICE_INVALID_ARGUMENT for an operation `assertEncodable` refuses.
 */
export function encodeBatch(checks: readonly WireOp[], deadlineUs: number): EncodedBatch {
  const keys: string[] = []
  const keyIndex = new Map<string, number>()
  const shapes: BucketPolicy[] = []
  const shapeIndex = new Map<BucketPolicy, number>()
  // Per bucket reference: its key's and its shape's index (from 0), combined once K is known.
  const refs: number[] = []
  const indexOf = (key: string): number => {
    let k = keyIndex.get(key)
    if (k === undefined) {
      k = keys.push(key) - 1
      keyIndex.set(key, k)
    }
    return k
  }
  for (const check of checks) {
    assertEncodable(check)
    if (check.lease !== undefined) indexOf(check.lease.key)
    if (check.slots !== undefined) for (const slot of check.slots) indexOf(slot.key)
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
  if (checks.length === 1 && K === 1 && checks[0]!.kind < OpKinds.slots) {
    // One check of one bucket: its own four-argument layout.
    const check = checks[0]!
    const shape = shapes[0]!
    return { keys, args: [deadlineUs, shape.intervalNs, shape.shadow ? -shape.capacity : shape.capacity, headOf(check)] }
  }
  const args: (number | string)[] = [deadlineUs, shapes.length]
  for (const shape of shapes) args.push(shape.intervalNs, shape.shadow ? -shape.capacity : shape.capacity)
  let r = 0
  for (const check of checks) {
    if (check.lease !== undefined) {
      // n = 1 lease: its set's key index and its id.
      args.push(check.magnitude * 256 + check.kind * 32 + 1, keyIndex.get(check.lease.key)! + 1, check.lease.leaseId)
      continue
    }
    const n = check.keys.length
    args.push(headOf(check))
    for (let i = 0; i < n; i++, r += 2) args.push(refs[r + 1]! * K + refs[r]! + 1)
    if (check.kind === OpKinds.slots) {
      const slots = check.slots!
      args.push(slots.length)
      for (const slot of slots) args.push(keyIndex.get(slot.key)! + 1, slot.limit, slot.leaseMs, slot.leaseId)
    }
  }
  return { keys, args }
}

/** What the script answered for a batch. */
export interface DecodedBatch {
  /** Redis TIME when the script ran, in µs since the epoch. */
  readonly redisTimeUs: number
  /** False when the batch arrived after its deadline: nothing was read or taken. */
  readonly ran: boolean
  /** Per operation: its reply, and every bucket's debt after it (for the deny cache). */
  readonly steps: readonly CheckStep[]
}

function malformed(what: string): SluiceError {
  return new SluiceError(ErrorCodes.STORE_REPLY, `@sluice: the token-bucket script returned an unexpected reply (${what})`)
}

/**
 * Read the script's flat integer reply back into one step per operation. A settle's reply
 * describes its buckets after it, as a check of one token that paid nothing would.
 */
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
  const steps = checks.map(({ policies, magnitude, kind, slots }): CheckStep => {
    if (isLeaseKind(kind)) {
      // A lease op answers 1 if the lease was live, else 0: as `admitted`, with no bucket.
      const value = next()
      if (value !== 0 && value !== 1) throw malformed(`a lease answered ${value}`)
      return { reply: { admitted: value === 1, buckets: [] }, debtsNs: [] }
    }
    const settle = kind === OpKinds.charge || kind === OpKinds.refund
    const cost = settle ? 1 : magnitude
    const statuses: CheckStatus[] = []
    const debtsNs: number[] = []
    for (let i = 0; i < policies.length; i++) {
      const value = raw[at++] as unknown
      if (typeof value !== 'number') throw malformed(`item ${at - 1} is ${typeof value}`)
      const fits = value >= 0
      if (settle && !fits) throw malformed('a settle answered a refusal')
      if (fits && cost > policies[i]!.capacity) throw malformed('a cost above the capacity read as affordable')
      statuses.push(fits ? 'allowed' : cost > policies[i]!.capacity ? 'cost-exceeds-capacity' : 'denied')
      debtsNs.push(fits ? value : -1 - value)
    }
    if (kind === OpKinds.slots && slots !== undefined) {
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
    }
    const admitted = settle || admits(statuses, policies)
    const pays = admitted && kind === OpKinds.check
    const buckets = policies.map((policy, i) => describeBucket(debtsNs[i]!, policy, cost, statuses[i]!, pays))
    return { reply: { admitted, buckets }, debtsNs }
  })
  if (at !== raw.length) throw malformed(`${raw.length - at} values left over`)
  return { redisTimeUs, ran: true, steps }
}
