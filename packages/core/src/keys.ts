import * as crypto from 'node:crypto'
import ipaddr from 'ipaddr.js'

/**
 * Client identities and bucket keys.
 *
 * A bucket key is `<prefix>{<client id>}:<bucket id>`. The client id is the Redis Cluster hash
 * tag, so every bucket of one client lands in one slot, and it is built only from characters that
 * can never contain `{` or `}`: an IP address, a hash, or a custom id of a safe shape. Nothing a
 * client sends can therefore reach another client's namespace, and keys stay short.
 */

const SAFE_ID = /^[A-Za-z0-9._:@/-]{1,64}$/
// A dotted-quad IPv4 address in canonical form (no leading zeros), the common case behind a
// gateway: it is already its own client id, so the general parser is skipped.
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/

// Node's one-shot `crypto.hash` (20.12+) skips the Hash object that createHash allocates; the
// digest is the same.
const sha256 =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (value: string): string => (crypto as unknown as { hash(a: string, d: string, e: string): string }).hash('sha256', value, 'base64url')
    : (value: string): string => crypto.createHash('sha256').update(value).digest('base64url')

function digest(value: string): string {
  // 128 bits of SHA-256, base64url: short, fixed length, and no secret is stored.
  return sha256(value).slice(0, 22)
}

/**
 * The client id of an IP address. IPv4-mapped IPv6 is its IPv4 address; other IPv6 addresses are
 * grouped by their `/ipv6Subnet` prefix (one customer usually holds a whole /64). A string that is
 * not an address (it should not happen; frameworks hand over what the socket says) is hashed, so
 * it can neither crash nor collide with a real address.
 */
export function ipClientId(ip: string | undefined, ipv6Subnet = 64): string {
  if (ip === undefined || ip === '') return 'ip:unknown'
  if (CANONICAL_IPV4.test(ip)) return `ip:${ip}`
  let address: ipaddr.IPv4 | ipaddr.IPv6
  try {
    address = ipaddr.process(ip)
  } catch {
    return `ipx:${digest(ip)}`
  }
  if (address.kind() === 'ipv4') return `ip:${address.toString()}`
  const parts = (address as ipaddr.IPv6).parts.slice()
  for (let i = 0; i < parts.length; i++) {
    const keep = Math.min(Math.max(ipv6Subnet - i * 16, 0), 16)
    parts[i] = keep === 0 ? 0 : parts[i]! & (0xffff << (16 - keep)) & 0xffff
  }
  const network = new ipaddr.IPv6(parts).toString()
  return ipv6Subnet >= 128 ? `ip:${network}` : `ip:${network}/${ipv6Subnet}`
}

/** The client id of an API key: hashed, so the secret never reaches Redis. */
export function apiKeyClientId(apiKey: string): string {
  return `key:${digest(apiKey)}`
}

/**
 * The client id of a key returned by a custom key function: kept readable when it is short and
 * of a safe shape, hashed otherwise. The two forms have different tags, so they cannot collide.
 */
export function customClientId(id: string): string {
  return SAFE_ID.test(id) ? `id:${id}` : `idh:${digest(id)}`
}

/**
 * A short, stable id for a route, so each route's own policy gets its own bucket. An empty
 * method means `url` is already a full route id (`GET /search`), as Express's `.route()` passes.
 */
export function routeBucketId(policyName: string, method: string, url: string): string {
  return `${policyName}@${digest(method === '' ? url : `${method} ${url}`).slice(0, 11)}`
}

export function bucketKey(prefix: string, clientId: string, bucketId: string): string {
  return `${prefix}{${clientId}}:${bucketId}`
}
