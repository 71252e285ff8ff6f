import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { findBinary, type RedisServer, startRedis } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../../src/stores/redis-store.js'
import type { BucketReply } from '../../src/types.js'

// A generous budget for direct checks: these tests are about what the buckets answer, and on a
// busy machine the store's default (100 ms) could refuse one.
const BUDGET = { timeoutMs: 10_000 } as const

const run = promisify(execFile)
const fixture = fileURLToPath(new URL('../fixtures/skewed-check.ts', import.meta.url))
const DAY_MS = 86_400_000

let server: RedisServer
let redis: Redis
let store: RedisStore

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
  store = new RedisStore(redis, BUDGET)
})
afterAll(async () => {
  await server.stop()
})

/** Take `count` tokens from `key` in a Node process whose clock is shifted by `offset` (faketime syntax). */
async function skewedReplica(offset: string, key: string, count: number): Promise<{ now: number; replies: BucketReply[] }> {
  const { stdout } = await run(
    findBinary('faketime'),
    ['-f', offset, process.execPath, '--import', 'tsx', fixture, String(server.port), key, String(count)],
    { timeout: 20_000 },
  )
  return JSON.parse(stdout.trim().split('\n').pop()!)
}

describe('clock skew between replicas', () => {
  it('a replica whose clock is days off limits exactly like the others', async () => {
    const key = 'skew:{client}:default'
    const check = { keys: [key], policies: [{ capacity: 10, intervalNs: 1_000_000_000_000, shadow: false }], cost: 1 } // ~no refill
    for (let i = 0; i < 3; i++) await store.check(check)

    const ahead = await skewedReplica('+3d', key, 2)
    expect(ahead.now - Date.now()).toBeGreaterThan(2.9 * DAY_MS) // the skew is real
    expect(ahead.replies.map((r) => r.remaining)).toEqual([6, 5])

    const behind = await skewedReplica('-2d', key, 1)
    expect(Date.now() - behind.now).toBeGreaterThan(1.9 * DAY_MS)
    expect(behind.replies.map((r) => r.remaining)).toEqual([4])

    expect((await store.check(check)).buckets[0]!.remaining).toBe(3)
  }, 60_000)
})
