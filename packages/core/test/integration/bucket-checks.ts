import { setTimeout as delay } from 'node:timers/promises'
import { type RedisStore, resolvePolicy } from '../../src/index.js'
import type { BucketReply } from '../../src/types.js'

/** A check of one bucket, as the limiter sends it to a store. */
export function request(key: string, capacity: number, refillPerSecond: number, cost = 1) {
  return { buckets: [{ key, capacity, intervalNs: resolvePolicy({ capacity, refillPerSecond }).intervalNs, cost, enforce: true }] }
}

/** One single-bucket check: its bucket's reply. */
export const one = async (store: RedisStore, check: ReturnType<typeof request>): Promise<BucketReply> =>
  (await store.check(check)).buckets[0]!

/**
 * Take from the bucket until it denies, and resolve with the denial: a slow machine may see a
 * token or two refill while it drains. Bounded, in case it never does.
 */
export async function drain(store: RedisStore, check: ReturnType<typeof request>): Promise<BucketReply> {
  let reply = await one(store, check)
  for (let takes = 1; reply.status === 'allowed' && takes < 1_000; takes++) reply = await one(store, check)
  return reply
}

/**
 * After `denied`, wait what the store says and check again, until admitted; resolves with the
 * waits it took. A timer may fire a millisecond early, so a correct store needs one or two; a
 * store that keeps denying once the tokens are there needs more, and this gives up at three.
 */
export async function waitsUntilAllowed(store: RedisStore, check: ReturnType<typeof request>, denied: BucketReply): Promise<number[]> {
  const waits: number[] = []
  for (let reply = denied; reply.status !== 'allowed' && waits.length < 3; reply = await one(store, check)) {
    waits.push(reply.retryAfterMs)
    await delay(reply.retryAfterMs)
  }
  return waits
}
