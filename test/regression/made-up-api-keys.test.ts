import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { get, rawGet } from '../support/http.js'
import { recordingLogger } from '../support/recording-logger.js'
import { regressionSuite } from '../support/regression-suite.js'

// With `key: { header }` every made-up API key was a fresh, full bucket: one client was
// unlimited, and could brute-force keys. A key that fails `verify` now counts as missing, and a
// header sent twice is one client, not two.
const suite = regressionSuite()
const issued = new Set(['sk_good_1', 'sk_good_2'])
const verify = (apiKey: string): boolean => issued.has(apiKey)

describe.each(drivers)('$name', (driver) => {
  it('draws every made-up key from the one bucket of the address that sends it', async () => {
    const app = await suite.start(driver, { capacity: 3, key: { header: 'x-api-key', verify } })
    const statuses = []
    for (let i = 0; i < 10; i++) statuses.push((await get(app.url, { 'x-api-key': `sk_guess_${i}` })).status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(3)
    // An issued key still has a bucket of its own.
    expect((await get(app.url, { 'x-api-key': 'sk_good_1' })).headers.get('x-ratelimit-remaining')).toBe('2')
  })

  it('answers a made-up key with 401 when missing keys are rejected, touching no bucket', async () => {
    const prefix = suite.prefix()
    const app = await suite.start(driver, {
      prefix,
      key: { header: 'x-api-key', missing: 'reject', verify: async (k: string) => verify(k) },
    })
    expect((await get(app.url, { 'x-api-key': 'sk_guess' })).status).toBe(401)
    expect((await get(app.url, { 'x-api-key': 'sk_good_2' })).status).toBe(200)
    expect(await suite.redis().keys(`${prefix}*`)).toHaveLength(1)
  })

  it('keys a header sent twice, or as a list, by its first value', async () => {
    const app = await suite.start(driver, { capacity: 4, key: { header: 'x-api-key', verify } })
    const remaining = async (headers: Array<[string, string]>) => (await rawGet(app, '/', headers)).headers['x-ratelimit-remaining']
    expect(await remaining([['X-Api-Key', 'sk_good_1']])).toBe('3')
    expect(await remaining([['X-Api-Key', 'sk_good_1, sk_good_2']])).toBe('2')
    expect(
      await remaining([
        ['X-Api-Key', 'sk_good_1'],
        ['X-Api-Key', 'sk_good_2'],
      ]),
    ).toBe('1')
    expect(await remaining([['X-Api-Key', ' sk_good_1 ,']])).toBe('0')
    expect(await remaining([['X-Api-Key', 'sk_good_2']])).toBe('3')
  })

  it('answers 500 with a coded error when verify throws, and never a free pass', async () => {
    const app = await suite.start(driver, {
      key: {
        header: 'x-api-key',
        verify: () => {
          throw new Error('auth service down')
        },
      },
    })
    const answer = await get(app.url, { 'x-api-key': 'sk_good_1' })
    expect(answer.status).toBe(500)
    expect(answer.headers.get('x-ratelimit-remaining')).toBeNull()
  })

  it('says once that an unverified header key only limits honest clients', async () => {
    const logger = recordingLogger()
    await suite.start(driver, { key: { header: 'x-api-key' }, logger }, [{ path: '/a' }, { path: '/b', rateLimit: { cost: 2 } }])
    expect(logger.codes.filter((c) => c === 'SLUICE_UNVERIFIED_API_KEY')).toHaveLength(1)
    const quiet = recordingLogger()
    await suite.start(driver, { key: { header: 'x-api-key', verify }, logger: quiet })
    expect(quiet.codes).toEqual([])
  })
})
