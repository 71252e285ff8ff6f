import { type RedisServer, startRedis } from '@sluice/harness'
import fc from 'fast-check'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { TOKEN_BUCKET_LUA_TEST_CLOCK } from '../../src/scripts/token-bucket.js'
import { checkOp, decodeBatch, encodeBatch, settleOp } from '../../src/scripts/wire.js'
import type { CheckReply, WireOp } from '../../src/types.js'
import { agrees, settleScenario } from '../support/settle-model.js'

// The script's checks and settles, interleaved, against the reference model, on a controlled
// clock (the script's test-clock variant), the wrap of its modular clock included.

type TestScript = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>
let server: RedisServer
let redis: Redis

beforeAll(async () => {
  server = await startRedis()
  redis = server.client()
  redis.defineCommand('sluiceTestClockSettle', { lua: TOKEN_BUCKET_LUA_TEST_CLOCK })
})
afterAll(async () => {
  await server.stop()
})

describe('script: interleaved checks and settles against a reference model', () => {
  it('agrees on every reply', async () => {
    const script = (redis as unknown as { sluiceTestClockSettle: TestScript }).sluiceTestClockSettle.bind(redis)
    const run = async (op: WireOp, nowUs: bigint): Promise<CheckReply> => {
      const { keys, args } = encodeBatch([op], 0)
      const raw = await script(keys.length, ...keys, ...args, String(nowUs / 1_000_000n), String(nowUs % 1_000_000n))
      return decodeBatch(raw, [op]).steps[0]!.reply
    }
    let id = 0
    await fc.assert(
      fc.asyncProperty(settleScenario, (scenario) =>
        agrees(scenario, ++id, {
          check: (request, nowUs) => run(checkOp(request), nowUs),
          settle: (request, nowUs) => run(settleOp(request), nowUs),
        }),
      ),
      { numRuns: 150 },
    )
  })
})
