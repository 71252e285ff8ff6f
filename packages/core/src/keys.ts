import * as crypto from 'node:crypto'
import ipaddr from 'ipaddr.js'
import { LRUCache } from 'lru-cache'

/**
 * Client identities and bucket keys.
 *
 * A bucket key is `<prefix>{<client id>}:<bucket id>`. The client id is the Redis Cluster hash
 * tag, so every bucket of one client lands in one slot, and it is built only from characters that
 * can never contain `{` or `}`: an IP address or a hash. Nothing a client sends can therefore
 * reach another client's namespace, and keys stay short. Each kind of id has its own tag (`ip:`,
 * `key:`, `id:`, `chk:`), so equal strings of different kinds never share a bucket.
 */

// A dotted-quad IPv4 address in canonical form (no leading zeros), the common case behind a
// gateway: it is already its own client id, so the general parser is skipped.
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/
// The two forms in which some gateways forward an address with its source port. A bare IPv6
// address may end in `:443` too (`2001:db8::1:443` is an address), so only these are stripped.
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/
const BRACKETED_IPV6 = /^\[([0-9A-Fa-f:.]+(?:%[^\]]{1,64})?)\](?::\d{1,5})?$/

/** The one bucket shared by every request whose address cannot be known (see `ipClientId`). */
export const UNKNOWN_IP_ID = 'ip:unknown'

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
 * The same ids come back on request after request (an API key, a user id), and a SHA-256 costs
 * more than the rest of a denied check: recent ones are remembered, each kind apart. Bounded in
 * count and in the length of what is kept, so a flood of distinct or huge values only evicts.
 */
function memoized(tag: string): (value: string) => string {
  const recent = new LRUCache<string, string>({ max: 10_000 })
  return (value) => {
    if (value.length > MEMO_MAX_LENGTH) return `${tag}:${digest(value)}`
    let id = recent.get(value)
    if (id === undefined) {
      id = `${tag}:${digest(value)}`
      recent.set(value, id)
    }
    return id
  }
}
const MEMO_MAX_LENGTH = 256

const apiKeyIds = memoized('key')
const customIds = memoized('id')

/**
 * A client address as keys read it: `203.0.113.5:40001` and `[2001:db8::1]:443` without the
 * port, IPv4-mapped IPv6 as IPv4; undefined for a string that is no address.
 */
export function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const candidate = IPV4_WITH_PORT.exec(ip)?.[1] ?? BRACKETED_IPV6.exec(ip)?.[1] ?? ip
  try {
    return ipaddr.process(candidate)
  } catch {
    return undefined
  }
}

/**
 * The client id of an IP address, or undefined when there is no address to key by (none at all,
 * or a string that is not one): the caller then uses `UNKNOWN_IP_ID` and says so, because a
 * garbage string hashed into a bucket of its own would let a client open fresh buckets at will.
 *
 * IPv4-mapped IPv6 is its IPv4 address; other IPv6 addresses are grouped by their
 * `/ipv6Subnet` prefix (one customer usually holds a whole /64). `203.0.113.5:40001` and
 * `[2001:db8::1]:443`, as some gateways forward them, are the address without the port.
 */
export function ipClientId(ip: string | undefined, ipv6Subnet = 64): string | undefined {
  if (ip === undefined || ip === '') return undefined
  if (CANONICAL_IPV4.test(ip)) return `ip:${ip}`
  const address = parseAddress(ip)
  if (address === undefined) return undefined
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
  return apiKeyIds(apiKey)
}

/**
 * The client id of a key function's result: hashed like an API key (a function may well return
 * a secret or a user's e-mail), under a tag of its own.
 */
export function customClientId(id: string): string {
  return customIds(id)
}

/** The client id of a key passed to a manual check from a handler: a namespace of its own. */
export function manualClientId(key: string): string {
  return `chk:${digest(key)}`
}

/**
 * A short, stable id for a route, so each route's own policy gets its own bucket. An empty
 * method means `url` is already a full route id (`GET /search`), as Express's `.route()` passes.
 */
export function routeBucketId(policyName: string, method: string, url: string): string {
  return `${policyName}@${digest(method === '' ? url : `${method} ${url}`).slice(0, 11)}`
}

/**
 * The bucket id of a policy a handler names in a manual check. No other bucket id holds a `:`
 * (policy and tier names cannot, route ids are `name@digest`, tiers' `tier/name`), so a manual
 * policy never shares a bucket with the limiter's own policies, a tier's or a route's, whatever
 * it is called.
 */
export function manualBucketId(policyName: string): string {
  return `check:${policyName}`
}

/**
 * The id of an in-flight limit's slot set, from the bucket id its policy would have: `c:` before
 * it, which no bucket id starts with (no bucket id holds a `:` but a manual one, `check:`), so a
 * slot set never shares a key with a token bucket.
 */
export function slotSetId(bucketId: string): string {
  return `c:${bucketId}`
}

export function bucketKey(prefix: string, clientId: string, bucketId: string): string {
  return `${prefix}{${clientId}}:${bucketId}`
}
