import { type Report, runLoadTest } from '../../packages/loadtest/src/index.js'

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

/**
 * Each forged address once, in X-Forwarded-For, eight requests at a time: the statuses. Were the
 * header believed, each would open a full bucket of its own and be admitted.
 */
export async function forgedForwardedFor(port: number): Promise<number[]> {
  const statuses: number[] = []
  const queue = [...FORGED]
  const worker = async (): Promise<void> => {
    for (let address = queue.shift(); address !== undefined; address = queue.shift()) {
      const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-for': address } })
      await response.arrayBuffer()
      statuses.push(response.status)
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return statuses
}
