import type { KeyOption } from '@sluice/core'
import { PERMISSIVE_TRUST_PROXY, permissiveTrustProxyWarning } from '@sluice/core/adapter'
import type { Application, Request } from 'express'

// Several limiters on one app would otherwise repeat the same warning.
const warned = new WeakSet<Application>()

/**
 * Express's `trust proxy` setting is only known once a request shows the app, so the start-up
 * check runs on the first request, once per app. A library must not write to the console, so
 * this is a process warning, which the app can route or silence like Node's own.
 */
export function warnIfTrustingEveryProxy(app: Application, key: KeyOption<Request>): void {
  if (warned.has(app)) return
  warned.add(app)
  const warning = permissiveTrustProxyWarning(app.get('trust proxy'), key as KeyOption<never>, "Express's 'trust proxy'")
  if (warning !== undefined) process.emitWarning(warning, { code: PERMISSIVE_TRUST_PROXY })
}
