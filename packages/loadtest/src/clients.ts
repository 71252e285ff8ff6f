import { randomBytes, randomInt } from 'node:crypto'
import { isIPv4 } from 'node:net'
import type { KeyMode } from './policy.js'
import type { ClientIdentity } from './types.js'

/** The load test sends traffic to loopback only: a typo must not aim it at a real host. */
export function loopbackTarget(gatewayUrl: string): URL {
  const url = new URL(gatewayUrl)
  if (url.protocol !== 'http:' || !isIPv4(url.hostname) || !url.hostname.startsWith('127.')) {
    throw new Error(`the load test only targets http:// on 127.0.0.0/8, got ${gatewayUrl}`)
  }
  return url
}

/**
 * `count` clients no earlier run has used, so every bucket starts full: API keys with a random
 * part, or source addresses in a random 127.x.y.0/24 (all of 127.0.0.0/8 is local on Linux).
 */
export function freshClients(count: number, keyMode: KeyMode): ClientIdentity[] {
  if (keyMode === 'api-key') {
    const run = randomBytes(4).toString('hex')
    return Array.from({ length: count }, (_, i) => ({ label: `key lt-${run}-${i + 1}`, apiKey: `lt-${run}-${i + 1}` }))
  }
  if (count > 240) throw new Error('at most 240 clients with their own source address')
  const network = `127.${randomInt(100, 255)}.${randomInt(0, 256)}`
  return Array.from({ length: count }, (_, i) => {
    const address = `${network}.${i + 11}`
    return { label: address, localAddress: address }
  })
}

/** The one client that connects from the default source address, as autocannon does. */
export const DEFAULT_SOURCE: ClientIdentity = Object.freeze({ label: '127.0.0.1' })
