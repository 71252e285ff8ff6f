import { isIP } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { drivers } from '../support/drivers.js'
import { rawGet } from '../support/http.js'
import { regressionSuite } from '../support/regression-suite.js'

/**
 * Random header values thrown at both adapters over real HTTP: forwarded addresses with and
 * without ports, duplicated headers, made-up and repeated API keys, unicode, 16 KB values. Behind
 * a trusted gateway, each request belongs to one real client (an issued API key, or the address
 * the gateway saw, or "no usable address"); whatever the bytes, no request is a 5xx, no client is
 * admitted more than its bucket holds, and Redis holds no more buckets than there are clients.
 */
const suite = regressionSuite()
const CAPACITY = 2
const ISSUED = ['sk_issued_a', 'sk_issued_b']

// Real clients behind the gateway, each in the forms a gateway may forward it.
const CLIENTS: Record<string, readonly string[]> = {
  alice: ['203.0.113.1', '::ffff:203.0.113.1', '203.0.113.1:40001', '203.0.113.1:51515', '[::ffff:203.0.113.1]:8080'],
  bob: ['198.51.100.7', '198.51.100.7:443'],
  carol: ['2001:db8:1:2::1', '2001:db8:1:2::99', '[2001:db8:1:2::5]:443'],
}

const junk = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    fc.constant('x'.repeat(16_384)),
    fc.constantFrom('unknown', '1.2.3', '[::1', '::1]:80', '🙂'),
  )
  .filter((s) => !/[,\r\n]/.test(s) && s.trim() !== '' && isIP(s.trim()) === 0 && !/^\d+(\.\d+){0,2}$/.test(s.trim()))

type Forwarded = { readonly client: string; readonly value: string }
const forwarded: fc.Arbitrary<Forwarded> = fc.oneof(
  fc.constantFrom(...Object.entries(CLIENTS).flatMap(([client, forms]) => forms.map((value) => ({ client, value })))),
  junk.map((value) => ({ client: 'no address', value })),
)

type ApiKey = { readonly issued: string | undefined; readonly value: string }
const apiKey: fc.Arbitrary<ApiKey> = fc.oneof(
  fc.constantFrom(...ISSUED).map((k) => ({ issued: k, value: k })),
  fc.tuple(fc.constantFrom(...ISSUED), junk).map(([k, rest]) => ({ issued: k, value: `${k}, ${rest}` })),
  junk.map((value) => ({ issued: undefined, value })),
)

const request = fc.record({
  // Sent as separate header lines: the app sees them joined, and the last one is the client.
  forwarded: fc.array(forwarded, { minLength: 1, maxLength: 2 }),
  apiKeys: fc.array(apiKey, { minLength: 0, maxLength: 2 }),
})

describe.each(drivers)('$name', (driver) => {
  it('no 5xx, no client past its bucket, no bucket per made-up value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 8, maxLength: 24 }), async (requests) => {
        const prefix = suite.prefix()
        const verify = (k: string) => ISSUED.includes(k)
        const options = {
          redis: suite.redis(),
          prefix,
          capacity: CAPACITY,
          refillPerSecond: 0.001,
          timeoutMs: 5_000,
          key: { header: 'x-api-key', verify },
        }
        const app = await driver.start(options, [{ path: '/' }], { trustProxy: '127.0.0.1' })
        const admitted = new Map<string, number>()
        try {
          for (const r of requests) {
            const headers: Array<[string, string]> = [
              ...r.forwarded.map((f): [string, string] => ['X-Forwarded-For', f.value]),
              ...r.apiKeys.map((k): [string, string] => ['X-Api-Key', k.value]),
            ]
            const answer = await rawGet(app, '/', headers)
            expect(answer.status).toBeLessThan(500)
            if (answer.status !== 200) continue
            const client = r.apiKeys[0]?.issued ?? r.forwarded.at(-1)!.client
            admitted.set(client, (admitted.get(client) ?? 0) + 1)
          }
          for (const count of admitted.values()) expect(count).toBeLessThanOrEqual(CAPACITY)
          expect((await suite.redis().keys(`${prefix}*`)).length).toBeLessThanOrEqual(admitted.size)
        } finally {
          await app.close()
        }
      }),
      { numRuns: 25 },
    )
  }, 120_000)
})
