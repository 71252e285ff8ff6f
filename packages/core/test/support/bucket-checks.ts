import { setTimeout as delay } from 'node:timers/promises'
import type { BucketReply } from '../../src/types.js'

/**
 * Check one bucket until it denies, and resolve with the denial: a slow machine may see a token
 * or two refill while it drains. Bounded, in case it never does.
 */
export async function drain(check: () => Promise<BucketReply>): Promise<BucketReply> {
  let reply = await check()
  for (let takes = 1; reply.status === 'allowed' && takes < 1_000; takes++) reply = await check()
  return reply
}

/**
 * After `denied`, wait what the store says and check again, until admitted; resolves with the
 * waits it took. A timer may fire a millisecond early, so a correct store needs one or two; a
 * store that keeps denying once the tokens are there needs more, and this gives up at three.
 */
export async function waitsUntilAllowed(check: () => Promise<BucketReply>, denied: BucketReply): Promise<number[]> {
  const waits: number[] = []
  for (let reply = denied; reply.status !== 'allowed' && waits.length < 3; reply = await check()) {
    waits.push(reply.retryAfterMs)
    await delay(reply.retryAfterMs)
  }
  return waits
}
