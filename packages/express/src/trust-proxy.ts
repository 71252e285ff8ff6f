import type { KeyOption } from '@sluice/core'
import type { Application, Request } from 'express'

export const PERMISSIVE_TRUST_PROXY = 'SLUICE_PERMISSIVE_TRUST_PROXY'

// Several route limiters on one app would otherwise repeat the same warning.
const warned = new WeakSet<Application>()

function keysByIp(key: KeyOption<Request>): boolean {
  return key === 'ip' || (typeof key === 'object' && key.missing !== 'reject')
}

/**
 * `trust proxy: true` believes any sender, so every client can pick its own `req.ip`, and with
 * it its bucket, through `X-Forwarded-For`. Only `true` is flagged: Express rejects `0.0.0.0/0`,
 * and a hop count or an address list is a deliberate choice. A library must not write to the
 * console, so this is a process warning, which the app can route or silence like Node's own.
 */
export function warnIfTrustingEveryProxy(app: Application, key: KeyOption<Request>): void {
  if (warned.has(app) || !keysByIp(key) || app.get('trust proxy') !== true) return
  warned.add(app)
  process.emitWarning(
    "@sluice/express: 'trust proxy' believes every sender, so any client can choose its IP (and its bucket) with X-Forwarded-For; trust only your gateway's address",
    { code: PERMISSIVE_TRUST_PROXY },
  )
}
