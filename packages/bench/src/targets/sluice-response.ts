import { HeaderNames } from '@sluice/core/internal'
import rateLimit from '@sluice/fastify'
import Fastify from 'fastify'
import { KEY_HEADER, type LimitSpec } from './catalog.js'

/** A response as a baseline target sends it: status, headers, body, all constant. */
export interface ConstantResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

const SENT_HEADERS = new Set<string>([...Object.values(HeaderNames), 'content-type'])

/**
 * What Sluice answers a client under `limits`, taken from @sluice/fastify itself (on its
 * in-memory store) rather than written down here, so the baselines keep sending exactly what
 * Sluice sends when that changes. `allowed`: the first answer to a new client (its quota
 * headers). `denied`: the first 429 once the bucket is empty (quota headers, Retry-After and
 * the problem body). Both adapters send the same headers and bodies: the conformance suite
 * holds them to it.
 */
export async function sluiceResponse(limits: LimitSpec, want: 'allowed' | 'denied'): Promise<ConstantResponse> {
  const app = Fastify({ logger: false })
  await app.register(rateLimit, { capacity: limits.capacity, refillPerSecond: limits.refillPerSecond, key: { header: KEY_HEADER } })
  app.get('/', async () => 'ok')
  try {
    // A full bucket answers 200 until `capacity` requests have taken its tokens.
    const attempts = want === 'allowed' ? 1 : Math.min(limits.capacity + 1, 1_000)
    for (let i = 0; i < attempts; i++) {
      const response = await app.inject({ method: 'GET', url: '/', headers: { [KEY_HEADER]: 'baseline' } })
      if ((response.statusCode === 429) !== (want === 'denied')) continue
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(response.headers)) {
        // The 200's content type is the route's own, which the baseline's route sets as well.
        if (SENT_HEADERS.has(name) && (name !== 'content-type' || want === 'denied')) headers[name] = String(value)
      }
      return { status: response.statusCode, headers, body: response.body }
    }
    throw new Error(`no ${want} answer from Sluice in ${attempts} requests under capacity ${limits.capacity}`)
  } finally {
    await app.close()
  }
}
