import { ignoreRejection } from './thenable.js'
import type { AddressNote, KeyOption } from './types.js'

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
  return trust !== undefined && STRANGERS.every((address) => trusts(trust, address, 0) && trusts(trust, address, FAR))
}

/**
 * The app's own function asked once: a throw is "not trusted" (the framework has already used
 * it on this request, so a throw here says nothing new), and a promise means nothing here and
 * must not reject unheard.
 */
function trusts(trust: TrustProxyFn, address: string, hop: number): boolean {
  try {
    const answer: unknown = trust(address, hop)
    ignoreRejection(answer)
    return answer === true
  } catch {
    return false
  }
}

// Whether a setting trusts any address at hop 0 (a hop count, `true`): it then cannot tell a
// proxy from a client by its address. Asked once per compiled setting.
const blindAtHopZero = new WeakMap<TrustProxyFn, 'everyone' | 'hops' | false>()

function blindness(trust: TrustProxyFn): 'everyone' | 'hops' | false {
  let known = blindAtHopZero.get(trust)
  if (known === undefined) {
    known = !STRANGERS.every((address) => trusts(trust, address, 0)) ? false : trustsEveryone(trust) ? 'everyone' : 'hops'
    blindAtHopZero.set(trust, known)
  }
  return known
}

/**
 * What is wrong with a request's address, if anything (see `AddressNote`):
 * - X-Forwarded-For from a peer the setting does not trust: the framework rightly ignored the
 *   header, and if that peer is the app's own proxy, every client shares its address;
 * - a resolved address the setting trusts at hop 0: a trusted gateway that sent no
 *   X-Forwarded-For (RFC 7239 `Forwarded` is not read, by either framework) resolves to itself,
 *   and is no client. A hop count trusts every address at hop 0, so there the gateway named no
 *   client when the request carries no X-Forwarded-For at all; a setting that trusts everyone is
 *   not judged (it has a warning of its own).
 * `trust` undefined is the frameworks' default: trust no one.
 */
export function addressNote(
  ip: string | undefined,
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trust: TrustProxyFn | undefined,
  setting: string,
): AddressNote | undefined {
  if (forwardedFor !== undefined && peer !== undefined && (trust === undefined || !trusts(trust, peer, 0))) {
    return { kind: 'untrusted-forwarded-for', peer, setting }
  }
  if (trust === undefined || ip === undefined || ip === '' || !trusts(trust, ip, 0)) return undefined
  const blind = blindness(trust)
  if (blind === 'everyone' || (blind === 'hops' && forwardedFor !== undefined)) return undefined
  return { kind: 'trusted-proxy', proxy: ip, setting }
}

/** The warning's text, naming the setting and the fix. */
export function permissiveTrustProxyMessage(setting: string): string {
  return `@sluice: ${setting} trusts every proxy, so any client can choose its IP (and its bucket) with X-Forwarded-For; trust only your gateway's address`
}
