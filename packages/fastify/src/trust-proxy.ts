import proxyAddr from '@fastify/proxy-addr'
import type { TrustProxyFn } from '@sluice/core/adapter'
import type { FastifyInstance } from 'fastify'

/**
 * Fastify does not expose its trust-proxy setting, so read the options it keeps under its own
 * symbol. If a future Fastify hides them, this returns undefined and only the warning is lost.
 */
function trustProxySetting(fastify: FastifyInstance): unknown {
  for (let o: object | null = fastify; o !== null; o = Object.getPrototypeOf(o)) {
    const symbol = Object.getOwnPropertySymbols(o).find((s) => s.description === 'fastify.options')
    if (symbol !== undefined) return (o as Record<symbol, { trustProxy?: unknown } | undefined>)[symbol]?.trustProxy
  }
  return undefined
}

/** The app's trust-proxy setting compiled as Fastify compiles it, for the start-up check. */
export function fastifyTrustProxy(fastify: FastifyInstance): TrustProxyFn | undefined {
  const setting = trustProxySetting(fastify)
  if (typeof setting === 'function') return setting as TrustProxyFn
  if (setting === true) return () => true
  if (typeof setting === 'number') return (_address, hop) => hop < setting
  if (typeof setting === 'string') return proxyAddr.compile(setting.split(',').map((s) => s.trim()))
  if (Array.isArray(setting)) return proxyAddr.compile(setting as string[])
  return undefined
}
