import { type RedisSentinelServer, startRedisSentinel } from '@sluice/harness'
import { createSentinel } from 'redis'
import { afterEach, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import type { RequestView } from '../../src/types.js'

// node-redis's Sentinel client stays `isReady` through an outage of its primary and forwards no
// `ready` of the primary connection; with `passthroughClientErrorEvents` it forwards that
// connection's errors (`Master Client (host:port): …`). The adapter takes those for a primary
// that is down, so checks are refused at once, as with ioredis, not each after its whole budget;
// and one probe through the client tells it the primary is back.

const BUDGET_MS = 3_000
/** "At once": well under the budget a check would otherwise wait. */
const AT_ONCE_MS = 1_000
const RECONNECT_MS = 100
const view: RequestView = { ip: '192.0.2.33', header: () => undefined }

let sentinel: RedisSentinelServer | undefined
let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.().catch(() => {})
  close = undefined
  await sentinel?.stop()
  sentinel = undefined
})

async function connect(server: RedisSentinelServer) {
  const client = createSentinel({
    name: server.name,
    sentinelRootNodes: [...server.sentinels],
    nodeClientOptions: { socket: { reconnectStrategy: () => RECONNECT_MS } },
    // What docs/redis.md recommends: without it, the primary's errors never leave the client.
    passthroughClientErrorEvents: true,
  })
  client.on('error', () => {})
  await client.connect()
  close = () => client.destroy()
  const primaryErrored = (): Promise<void> =>
    new Promise((resolve) => {
      const listener = (error: unknown): void => {
        if (!String(error).includes('Master Client (')) return
        client.off('error', listener)
        resolve()
      }
      client.on('error', listener)
    })
  const route = createLimiter<object>({
    redis: client,
    capacity: 100,
    refillPerSecond: 1,
    prefix: `nrss${Math.random().toString(36).slice(2)}:`,
    failureMode: 'deny',
    timeoutMs: BUDGET_MS,
    logger: recordingLogger(),
  }).forRoute(undefined, '*', '*')!
  return { client, route, primaryErrored }
}

/** One check, timed. */
async function timedCheck(route: Awaited<ReturnType<typeof connect>>['route']) {
  const started = performance.now()
  const decision = (await route.check({}, view))!
  return { decision, ms: performance.now() - started }
}

it('refuses at once while the primary is unreachable, and answers from Redis once it is back (no failover)', async () => {
  // Sentinel would wait a minute before acting: the same primary comes back, and no MASTER_CHANGE.
  const server = await startRedisSentinel({ downAfterMs: 60_000 })
  sentinel = server
  const { route, primaryErrored } = await connect(server)
  expect((await route.check({}, view))!.source).toBe('store')

  const port = await server.primaryPort()
  const errored = primaryErrored()
  await server.kill(port)
  await errored
  const down = await timedCheck(route)
  expect(down.decision.outcome).toBe('unavailable')
  expect(down.decision.deny?.status).toBe(503)
  expect(down.ms).toBeLessThan(AT_ONCE_MS)

  await server.restart(port)
  // The probe hears the primary back; until then the checks are refused at once (the breaker
  // may hold them a cooldown longer): none waits its budget.
  const deadline = performance.now() + 20_000
  let back = await timedCheck(route)
  while (back.decision.source !== 'store' && performance.now() < deadline) {
    expect(back.ms).toBeLessThan(AT_ONCE_MS)
    await new Promise((resolve) => setTimeout(resolve, 50))
    back = await timedCheck(route)
  }
  expect(back.decision.source).toBe('store')
  expect(back.decision.outcome).toBe('allowed')
}, 60_000)

it('refuses at once while the primary is down, and answers from the promoted replica', async () => {
  const server = await startRedisSentinel({ downAfterMs: 1_000 })
  sentinel = server
  const { route, primaryErrored } = await connect(server)
  expect((await route.check({}, view))!.source).toBe('store')

  const port = await server.primaryPort()
  const errored = primaryErrored()
  await server.kill(port)
  await errored
  const down = await timedCheck(route)
  expect(down.decision.outcome).toBe('unavailable')
  expect(down.ms).toBeLessThan(AT_ONCE_MS)

  await server.promotedFrom(port, 20_000)
  const deadline = performance.now() + 20_000
  let back = await timedCheck(route)
  while (back.decision.source !== 'store' && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    back = await timedCheck(route)
  }
  expect(back.decision.source).toBe('store')
}, 60_000)
