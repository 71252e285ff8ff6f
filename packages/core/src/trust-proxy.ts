import { ignoreRejection } from './thenable.js'
import type { KeyOption } from './types.js'

/** A compiled trust-proxy setting, as both frameworks use it: is `address`, `hop` hops away, a trusted proxy? */
export type TrustProxyFn = (address: string, hop: number) => boolean

/** Whether a key option can end up keying by IP (directly, or as a missing API key's fallback). */
export function keysByIp(key: KeyOption<never>): boolean {
  return key === 'ip' || (typeof key === 'object' && key.missing !== 'reject')
}

// Addresses no gateway of anyone's is likely to have, spread over both families: a setting that
// trusts all of them, however far away, trusts the whole internet.
const STRANGERS = ['1.2.3.4', '93.184.216.34', '185.199.108.153', '203.0.113.77', '2001:db8:5eed::1', '2606:4700:4700::1111']
const FAR = 1_000

/**
 * Whether a trust-proxy setting believes every sender, so that any client can choose its IP, and
 * with it its bucket, through X-Forwarded-For: `true`, a function that returns true for every
 * hop, or a list of ranges that covers every address. A hop count is a deliberate choice and is
 * not flagged (it trusts no one past the hops it names).
 */
export function trustsEveryone(trust: TrustProxyFn | undefined): boolean {
  if (trust === undefined) return false
  try {
    // The app's own function: a promise from it means nothing here, and must not reject unheard.
    const says = (address: string, hop: number): boolean => {
      const answer: unknown = trust(address, hop)
      ignoreRejection(answer)
      return answer === true
    }
    return STRANGERS.every((address) => says(address, 0) && says(address, FAR))
  } catch {
    return false
  }
}

/** The warning's text, naming the setting and the fix. */
export function permissiveTrustProxyMessage(setting: string): string {
  return `@sluice: ${setting} trusts every proxy, so any client can choose its IP (and its bucket) with X-Forwarded-For; trust only your gateway's address`
}
