import type { KeyOption } from './types.js'

/** The process-warning code for a trust-proxy setting that lets clients choose their IP. */
export const PERMISSIVE_TRUST_PROXY = 'SLUICE_PERMISSIVE_TRUST_PROXY'

/** Whether a key option can end up keying by IP (directly, or as a missing API key's fallback). */
export function keysByIp(key: KeyOption<never>): boolean {
  return key === 'ip' || (typeof key === 'object' && key.missing !== 'reject')
}

/**
 * The start-up warning for a framework whose trust-proxy setting believes every sender, so any
 * client can choose its IP, and with it its bucket, through X-Forwarded-For; undefined when
 * there is nothing to warn about. Only `true` is flagged: both frameworks reject `0.0.0.0/0`,
 * and a hop count or an address list is a deliberate choice.
 */
export function permissiveTrustProxyWarning(trustProxy: unknown, key: KeyOption<never>, setting: string): string | undefined {
  if (trustProxy !== true || !keysByIp(key)) return undefined
  return `@sluice: ${setting} is true, so any client can choose its IP (and its bucket) with X-Forwarded-For; trust only your gateway's address`
}
