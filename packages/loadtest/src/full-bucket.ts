import { request } from 'node:http'
import { setTimeout as delay } from 'node:timers/promises'
import { type Recorder, type SampleHeaders, sampleHeaders } from './sample.js'

const PROBES = 4

interface Probe {
  readonly status: number
  readonly remaining: number
  readonly resetSeconds: number
  readonly headers: SampleHeaders
  readonly sentAt: number
  readonly receivedAt: number
}

function probe(url: URL): Promise<Probe> {
  const sentAt = performance.now()
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, timeout: 5_000 }, (res) => {
      res.resume()
      res.once('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          remaining: Number(res.headers['x-ratelimit-remaining'] ?? Number.NaN),
          resetSeconds: Number(res.headers['x-ratelimit-reset'] ?? Number.NaN),
          headers: sampleHeaders((name) => {
            const value = res.headers[name]
            return Array.isArray(value) ? value[0] : value
          }),
          sentAt,
          receivedAt: performance.now(),
        })
      })
    })
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url.href} within 5 s`)))
    req.once('error', reject)
    req.end()
  })
}

/**
 * Clients driven by autocannon all connect from 127.0.0.1, whose bucket an earlier run may have
 * emptied; a run that starts with a part-empty bucket would look like lost tokens. Probe it, and
 * while it is not full wait the seconds X-RateLimit-Reset announces. The probe that finds it full
 * took a token, so it is recorded as the run's first request.
 */
export async function untilBucketFull(url: URL, capacity: number, recorder: Recorder, client: number, signal?: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const p = await probe(url)
    if (p.status !== 200 && p.status !== 429) throw new Error(`the gateway answered ${p.status} to ${url.href}`)
    if (!Number.isFinite(p.remaining) || !Number.isFinite(p.resetSeconds)) {
      throw new Error(`no X-RateLimit-Remaining / X-RateLimit-Reset headers from ${url.href}: is it rate limited?`)
    }
    if (p.status === 200 && p.remaining >= capacity - 1) {
      recorder.record(client, p.sentAt, p.receivedAt, p.status, p.headers)
      return
    }
    if (attempt >= PROBES) throw new Error(`the bucket of 127.0.0.1 was still not full after ${PROBES} probes`)
    await delay(Math.max(1, p.resetSeconds) * 1000, undefined, { signal })
  }
}
