import { describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'

const limiter = () => createLimiter<object>({ capacity: 3, refillPerSecond: 0.001, logger: recordingLogger() })

describe("a limiter's controls", () => {
  it('are a frozen object of exactly stats, reset, peek, check, settle and acquire', () => {
    const { controls } = limiter()
    expect(Object.isFrozen(controls)).toBe(true)
    expect(Object.keys(controls).sort()).toEqual(['acquire', 'check', 'peek', 'reset', 'settle', 'stats'])
    for (const name of ['forRoute', 'options', 'warnOnce', 'close']) expect(name in controls).toBe(false)
  })

  it('are the same object on every read, and none of the limiter itself', () => {
    const created = limiter()
    expect(created.controls).toBe(created.controls)
    expect(created.controls).not.toBe(created)
  })

  it('work detached from the object, as the Express middleware carries them', async () => {
    const { check, peek, reset, stats } = limiter().controls
    await expect(check({}, { key: 'u' })).resolves.toMatchObject({ allowed: true, remaining: 2 })
    // A manual check's key is a client of its own: the key function's id 'u' is still full.
    await expect(peek({ id: 'u' })).resolves.toMatchObject({ remaining: 3 })
    await reset({ ip: '192.0.2.1' })
    expect(stats()).toMatchObject({ storeAnswers: 1, shadowDenials: 0, unknownIp: 0 })
  })

  it("peek and reset a client of the limiter's own policies", async () => {
    const created = limiter()
    const route = created.forRoute(undefined, 'GET', '/')!
    const view = { ip: '192.0.2.7', header: () => undefined }
    await route.check({}, view)
    await route.check({}, view)
    await expect(created.controls.peek({ ip: '192.0.2.7' })).resolves.toMatchObject({ remaining: 1 })
    await created.controls.reset({ ip: '192.0.2.7' })
    await expect(created.controls.peek({ ip: '192.0.2.7' })).resolves.toMatchObject({ remaining: 3 })
  })

  it("name a tier that is not one of the limiter's tiers as a coded error", async () => {
    const tiered = createLimiter<object>({
      tiers: { free: { capacity: 1, refillPerSecond: 0.001 }, pro: { capacity: 5, refillPerSecond: 0.001 } },
      tier: () => 'pro',
      logger: recordingLogger(),
    })
    await expect(tiered.controls.peek({ id: 'u', tier: 'gold' })).rejects.toMatchObject({ code: 'ERR_SLUICE_INVALID_ARGUMENT' })
    await expect(tiered.controls.peek({ id: 'u', tier: 'pro' })).resolves.toMatchObject({ remaining: 5 })
    await expect(tiered.controls.check({}, { key: 'u' })).resolves.toMatchObject({ remaining: 4 })
  })
})
