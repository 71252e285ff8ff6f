import { ErrorCodes, SluiceError } from './errors.js'
import { apiKeyClientId, customClientId, ipClientId, UNKNOWN_IP_ID } from './keys.js'
import { badValue, callRequestFunction, checkedBoolean } from './request-functions.js'
import { isThenable } from './thenable.js'
import type { ClientRef, KeyOption, RequestView } from './types.js'
import { WarningCodes, type WarnOnce } from './warnings.js'

/**
 * Who a request is: its client id, by address, API key or key function, and the count of
 * requests that had no usable address (checked against the one bucket they all share).
 */
export class ClientIdentity<Req> {
  readonly #once: WarnOnce
  readonly #ipv6Subnet: number
  #unknownIp = 0

  constructor(once: WarnOnce, ipv6Subnet: number) {
    this.#once = once
    this.#ipv6Subnet = ipv6Subnet
  }

  /** Requests checked against the shared unknown bucket. */
  get unknownIp(): number {
    return this.#unknownIp
  }

  /**
   * The client id, or undefined for a missing (or unverified) API key the route rejects.
   * Synchronous unless a request function returns a promise.
   */
  of(key: KeyOption<Req>, request: Req, view: RequestView): string | undefined | Promise<string | undefined> {
    if (key === 'ip') return this.#ipId(view)
    if (typeof key === 'function')
      return callRequestFunction(
        'key',
        () => key(request),
        (id) => this.#keyFunctionId(id, view),
      )
    const missing = (): string | undefined => (key.missing === 'reject' ? undefined : this.#ipId(view))
    const apiKey = firstValue(view.header(key.header))
    if (apiKey === undefined) return missing()
    const verify = key.verify
    if (verify === undefined) return apiKeyClientId(apiKey)
    const verdict = callRequestFunction('key.verify', () => verify(apiKey, request), checkedVerdict)
    const settle = (ok: boolean): string | undefined => (ok ? apiKeyClientId(apiKey) : missing())
    return isThenable(verdict) ? Promise.resolve(verdict).then(settle) : settle(verdict)
  }

  /** Whether a request the route rejects for its API key sent one (that `verify` refused) or none. */
  sentApiKey(key: KeyOption<Req>, view: RequestView): boolean {
    return typeof key === 'object' && firstValue(view.header(key.header)) !== undefined
  }

  /** Said once per limiter: a key read from a header that nothing verifies. */
  warnIfUnverified(key: KeyOption<Req>): void {
    if (typeof key !== 'object' || key.verify !== undefined) return
    this.#once.warn(
      WarningCodes.UNVERIFIED_API_KEY,
      { header: key.header },
      `@sluice: API keys are read from the "${key.header}" header but never verified, so a client can send made-up keys to get fresh buckets; pass key.verify (apiKey, request) => boolean to accept only the keys your app issued (or () => true if an earlier hook already rejects unknown keys)`,
    )
  }

  /**
   * What a key function answered: a string is an id of the app's own (in a namespace of its own,
   * so no string reaches an address's or an API key's bucket); a client reference is keyed as the
   * limiter keys that kind, so `{ ip }` is exactly `key: 'ip'` (IPv6 grouped by `ipv6Subnet`, a
   * proxy's own address or none the shared unknown bucket) and `{ apiKey }` the header key's bucket.
   */
  #keyFunctionId(value: unknown, view: RequestView): string {
    if (typeof value === 'string') {
      if (value === '') throw badValue('key', 'a non-empty string or { ip }, { apiKey } or { id }', value)
      return customClientId(value)
    }
    if (typeof value !== 'object' || value === null) throw badValue('key', 'a non-empty string or { ip }, { apiKey } or { id }', value)
    const ref = value as Partial<Record<'ip' | 'apiKey' | 'id', unknown>>
    if ('ip' in ref) {
      const ip = ref.ip
      const note = view.address
      // The request's own address (or the proxy's, which the view leaves out): as `key: 'ip'`, notes and all.
      if (ip === view.ip || (note?.kind === 'trusted-proxy' && ip === note.proxy)) return this.#ipId(view)
      const id = typeof ip === 'string' ? ipClientId(ip, this.#ipv6Subnet) : undefined
      return id ?? this.#unknownBucket(ip)
    }
    if (typeof ref.apiKey === 'string' && ref.apiKey !== '') return apiKeyClientId(ref.apiKey)
    if (typeof ref.id === 'string' && ref.id !== '') return customClientId(ref.id)
    throw badValue('key', 'a non-empty string or { ip }, { apiKey } or { id }', value)
  }

  /** The client id of the request's address, or the one shared unknown bucket, said out loud. */
  #ipId(view: RequestView): string {
    const note = view.address
    if (note?.kind === 'untrusted-forwarded-for') this.#warnUntrustedForwardedFor(note)
    const id = ipClientId(view.ip, this.#ipv6Subnet)
    if (id !== undefined) return id
    this.#unknownIp++
    if (note?.kind === 'trusted-proxy') {
      this.#once.warn(
        WarningCodes.UNKNOWN_IP,
        { ip: note.proxy.slice(0, 64), reason: 'trusted-proxy', setting: note.setting },
        `@sluice: a request came from ${note.proxy.slice(0, 64)}, which ${note.setting} trusts as a proxy, with no X-Forwarded-For naming a client, so it was checked against the one bucket that every such request shares (a proxy's own address is no client's); have the gateway send X-Forwarded-For (RFC 7239 Forwarded is not read), or key by API key`,
      )
      return UNKNOWN_IP_ID
    }
    return this.#unknownBucket(view.ip, false)
  }

  /** The one bucket every request with no usable address shares, said out loud and counted. */
  #unknownBucket(ip: unknown, count = true): string {
    if (count) this.#unknownIp++
    this.#once.warn(
      WarningCodes.UNKNOWN_IP,
      { ip: ip === undefined || ip === null ? null : String(ip).slice(0, 64) },
      "@sluice: a request had no usable client address, so it was checked against the one bucket that every such request shares; behind a proxy on a unix socket, or one that sends no X-Forwarded-For, set the framework's trust-proxy setting to the gateway's address and have the gateway send X-Forwarded-For, or key by API key",
    )
    return UNKNOWN_IP_ID
  }

  #warnUntrustedForwardedFor(note: { readonly peer: string; readonly setting: string }): void {
    const peer = note.peer.slice(0, 64)
    this.#once.warn(
      WarningCodes.UNTRUSTED_FORWARDED_FOR,
      { peer, setting: note.setting },
      `@sluice: a request from ${peer} carried X-Forwarded-For, but ${note.setting} does not trust ${peer}, so the request was keyed by ${peer}'s own address: if ${peer} is your proxy, every client shares its bucket; set ${note.setting} to the proxy's address. A public app with no proxy in front, whose clients send X-Forwarded-For themselves, sees this warning too and may ignore it`,
    )
  }
}

/** The client id an operator names; an address that does not parse is an error, not the unknown bucket. */
export function clientIdOf(client: ClientRef, ipv6Subnet: number): string {
  // Operators call these from scripts and admin routes, where a null or a missing argument is as
  // likely as a malformed one, and deserves the same coded error.
  const given = (typeof client === 'object' && client !== null ? client : {}) as Partial<Record<'ip' | 'apiKey' | 'id', unknown>>
  if (typeof given.ip === 'string') {
    const id = ipClientId(given.ip, ipv6Subnet)
    if (id !== undefined) return id
  } else if (typeof given.apiKey === 'string' && given.apiKey !== '') {
    return apiKeyClientId(given.apiKey)
  } else if (typeof given.id === 'string' && given.id !== '') {
    return customClientId(given.id)
  }
  throw new SluiceError(
    ErrorCodes.INVALID_ARGUMENT,
    "@sluice: expected a client as { ip: '<address>' }, { apiKey: '<key>' } or { id: '<key-function id>' }",
  )
}

/** The first value of a header: a repeated header reaches the app joined by commas, and is one client. */
function firstValue(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value
  if (raw === undefined) return undefined
  const comma = raw.indexOf(',')
  const first = (comma === -1 ? raw : raw.slice(0, comma)).trim()
  return first === '' ? undefined : first
}

const checkedVerdict = checkedBoolean('key.verify')
