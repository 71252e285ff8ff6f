import { freePort, type RedisServer, startRedis } from '@sluice/harness'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type LoggedWarning, recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import type { RedisClient, RequestView } from '../../src/types.js'

// A dead or wrong Redis used to give no start-up signal, and its warning named only the deadline
// ("not ready within the check's time budget"), never the cause. The store now listens for its
// client's errors: the start-up line (the logger's `info`) and SLUICE_STORE_UNAVAILABLE name the
// cause and the budget as configured.
const client: RequestView = { ip: '198.51.100.7', header: () => undefined }
const TIMEOUT_MS = 100
let n = 0
const cleanup: (() => unknown)[] = []

afterEach(async () => {
  for (const done of cleanup.splice(0)) await done()
  vi.restoreAllMocks()
})

/** A logger whose `info` lines are kept too, and a promise of the first one. */
function loggerWithInfo() {
  const logger = recordingLogger()
  const infos: LoggedWarning[] = []
  let first!: (line: LoggedWarning) => void
  const firstInfo = new Promise<LoggedWarning>((resolve) => {
    first = resolve
  })
  return {
    logger: Object.assign(logger, {
      info(object: object, message: string) {
        const line = { object: object as Record<string, unknown>, message }
        infos.push(line)
        first(line)
      },
    }),
    infos,
    firstInfo,
  }
}

/** A limiter on `redis` with the default budget; its first check answered by the failure mode, and what was logged. */
async function startOn(redis: RedisClient) {
  const { logger, infos, firstInfo } = loggerWithInfo()
  const route = createLimiter<object>({
    redis,
    capacity: 10,
    refillPerSecond: 1,
    prefix: `cause${++n}:`,
    timeoutMs: TIMEOUT_MS,
    logger,
  }).forRoute(undefined, '*', '*')!
  const startup = await firstInfo
  const decision = (await route.check({}, client))!
  return { logger, infos, startup, decision }
}

function unavailable(logger: ReturnType<typeof recordingLogger>): LoggedWarning {
  const warnings = logger.lines.filter((line) => line.object.code === 'SLUICE_STORE_UNAVAILABLE')
  expect(warnings).toHaveLength(1)
  return warnings[0]!
}

describe('a dead or wrong Redis names its cause', () => {
  it('a port with nothing listening: ECONNREFUSED, at start-up and in the warning', async () => {
    const printed = vi.spyOn(console, 'error')
    const port = await freePort()
    const redis = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 50 })
    cleanup.push(() => redis.disconnect())
    const { logger, infos, startup, decision } = await startOn(redis)

    expect(startup.object).toMatchObject({ store: 'redis', timeoutMs: TIMEOUT_MS, failureMode: 'local' })
    expect(startup.object.cause).toMatch(/ECONNREFUSED/)
    expect(startup.message).toMatch(
      /^@sluice: the redis store is failing \(.*ECONNREFUSED.*\); .*'local' failure mode.* 100 ms \(timeoutMs\)$/,
    )
    expect(infos).toHaveLength(1)

    expect(decision.source).toBe('local')
    const warning = unavailable(logger)
    expect(warning.object).toMatchObject({ store: 'redis', failureMode: 'local', timeoutMs: TIMEOUT_MS })
    expect(warning.object.cause).toMatch(/ECONNREFUSED/)
    expect(warning.object.reason).toMatch(/not ready/)
    expect(warning.message).toMatch(
      /^@sluice: the redis store is unavailable \(.*ECONNREFUSED.*; .*not ready.*\); answering in 'local' failure mode \(timeoutMs: 100 ms\)$/,
    )
    // The store's listener silences ioredis's own print of an unhandled error event.
    expect(printed.mock.calls.filter((args) => String(args[0]).includes('Unhandled error event'))).toEqual([])
  })

  describe('a server with requirepass, and a client without the password', () => {
    let server: RedisServer
    afterEach(async () => {
      await server?.stop()
    })

    it('NOAUTH, at start-up and in the warning', async () => {
      server = await startRedis({ args: ['--requirepass', 'sluice-test-password'] })
      const redis = server.client({ retryStrategy: () => 50 })
      const { logger, startup, decision } = await startOn(redis)

      expect(startup.object.cause).toMatch(/NOAUTH/)
      expect(startup.message).toMatch(/failing \(.*NOAUTH.*\)/)
      expect(decision.source).toBe('local')
      const warning = unavailable(logger)
      expect(warning.object.cause).toMatch(/NOAUTH/)
      expect(warning.object.timeoutMs).toBe(TIMEOUT_MS)
      expect(warning.message).toMatch(/unavailable \(.*NOAUTH.*\); answering in 'local' failure mode \(timeoutMs: 100 ms\)$/)
    })
  })

  it('a server that answers: one start-up line that it was reached, and no warning', async () => {
    const server = await startRedis()
    cleanup.push(() => server.stop())
    const redis = server.client()
    const { logger, infos, startup, decision } = await startOn(redis)
    expect(startup).toEqual({
      object: { store: 'redis', timeoutMs: TIMEOUT_MS, failureMode: 'local' },
      message: '@sluice: the redis store is reached; each check waits at most 100 ms for it (timeoutMs)',
    })
    expect(infos).toHaveLength(1)
    expect(decision.source).toBe('store')
    expect(logger.lines).toEqual([])
  })
})
