import { DEGRADED_HEADER, type Report, runLoadTest } from '../../packages/loadtest/src/index.js'

/**
 * One client bursting through the published gateway port for `seconds`: the load test's own
 * burst scenario, driven from the host. Every host connection reaches nginx from the Docker
 * network's gateway address, so the host is one client.
 */
export function oneClient(port: number, capacity: number, refillPerSecond: number, seconds: number): Promise<Report> {
  return runLoadTest({ gatewayUrl: `http://127.0.0.1:${port}`, scenario: 'burst', capacity, refillPerSecond, durationSeconds: seconds })
}

/** Documentation addresses (RFC 5737) a client might claim to be; none is anyone's real address. */
export const FORGED = Array.from({ length: 200 }, (_, i) => `${i < 100 ? '198.51.100' : '203.0.113'}.${(i % 100) + 1}`)

/** What the forged requests got, and how long they took from the first sent to the last answered. */
export interface ForgedRun {
  readonly answers: readonly { readonly status: number; readonly degraded: boolean; readonly limit: number }[]
  readonly seconds: number
}

/**
 * Each forged address once, in X-Forwarded-For, eight requests at a time. Were the header
 * believed, each would open a full bucket of its own and be admitted.
 */
export async function forgedForwardedFor(port: number): Promise<ForgedRun> {
  const answers: ForgedRun['answers'][number][] = []
  const queue = [...FORGED]
  const started = performance.now()
  const worker = async (): Promise<void> => {
    for (let address = queue.shift(); address !== undefined; address = queue.shift()) {
      const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-for': address } })
      await response.arrayBuffer()
      answers.push({
        status: response.status,
        degraded: response.headers.get(DEGRADED_HEADER) === 'true',
        limit: Number(response.headers.get('x-ratelimit-limit')),
      })
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return { answers, seconds: (performance.now() - started) / 1000 }
}
