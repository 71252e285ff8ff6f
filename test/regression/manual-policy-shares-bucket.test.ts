import { createLimiter } from '@sluice/core/adapter'
import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { regressionSuite } from '../support/regression-suite.js'

// A handler's `check(request, { key, policy })` named its policy's bucket after the policy only,
// so a policy called like one of the limiter's own (`'default'`) shared that bucket with other
// numbers; and a misspelt field (`shadwo: true`) was accepted, so the policy enforced. Manual
// policies now have buckets of their own, and their fields are checked like every policy's.
const suite = regressionSuite()

describe.each(drivers)('$name', (driver) => {
  it("keeps a manual policy named 'default' out of the limiter's own default bucket", async () => {
    const app = await suite.start(driver, { capacity: 5 }, [
      { path: '/login', rateLimit: false, manual: { policy: { name: 'default', capacity: 2, refillPerSecond: 0.001 } } },
      { path: '/manual', rateLimit: false, manual: {} },
    ])
    const login = async () => (await get(`${app.url}/login`, { 'x-user': 'u' })).body
    expect([await login(), await login(), await login()]).toEqual([
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
      { allowed: false, remaining: 0 },
    ])
    // The same key on the limiter's own policies (capacity 5) starts from a full bucket of its own.
    expect((await get(`${app.url}/manual`, { 'x-user': 'u' })).body).toEqual({ allowed: true, remaining: 4 })
    // And the other way round: the manual policy's bucket never saw that check.
    expect(await login()).toEqual({ allowed: false, remaining: 0 })
  })
})

describe("a manual check's policy fields", () => {
  const limiter = () =>
    createLimiter({ redis: suite.redis(), capacity: 5, refillPerSecond: 0.001, prefix: suite.prefix(), timeoutMs: 5_000 })

  it('refuses a misspelt field, naming it', async () => {
    const policy = { name: 'login', capacity: 1, refillPerSecond: 0.001, shadwo: true }
    await expect(limiter().controls.check({}, { key: 'u', policy })).rejects.toMatchObject({
      code: 'ERR_SLUICE_UNKNOWN_OPTION',
      option: 'policy.shadwo',
    })
  })

  it('refuses a policy that is not an object', async () => {
    // A malformed argument of a manual call, like a malformed client (operator-calls-null-client).
    await expect(limiter().controls.check({}, { key: 'u', policy: 'login' as never })).rejects.toMatchObject({
      code: 'ERR_SLUICE_INVALID_ARGUMENT',
    })
  })

  it("stores a manual policy's bucket apart from the limiter's, whatever the names", async () => {
    const checks = limiter()
    const manual = await checks.controls.check({}, { key: 'u', policy: { name: 'default', capacity: 5, refillPerSecond: 0.001 } })
    const own = await checks.controls.check({}, { key: 'u' })
    expect(manual.policies[0]!.key).not.toBe(own.policies[0]!.key)
    expect(own.remaining).toBe(4)
  })
})
