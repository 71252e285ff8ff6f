import type { SlotClaim, SlotReply } from './types.js'

/**
 * In-flight slots, as pure arithmetic shared by both stores: a slot set holds live leases; a
 * check asking for a slot fits when fewer than `limit` are live (after the expired ones are
 * pruned), and takes one only when the whole check is admitted. One slot per request whatever
 * its cost. The Lua script (scripts/token-bucket.ts) does the same inside Redis.
 */

/** Whether a slot set with `live` leases has room for one more. */
export function slotFits(live: number, slot: SlotClaim): boolean {
  return live < slot.limit
}

/** What a slot that had `live` leases before the check tells the client. */
export function describeSlot(live: number, slot: SlotClaim, fits: boolean, taken: boolean): SlotReply {
  return {
    status: fits ? 'allowed' : 'denied',
    taken,
    free: fits ? slot.limit - live - (taken ? 1 : 0) : 0,
  }
}
