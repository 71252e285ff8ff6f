import type { IncomingHttpHeaders } from 'node:http'
import { addressNote, type TrustProxyFn } from './trust-proxy.js'
import type { RequestView } from './types.js'

/** What both frameworks' requests carry that the view is built from. */
export interface ViewableRequest {
  /** The address the framework resolved under its trust-proxy setting. */
  readonly ip: string | undefined
  readonly headers: IncomingHttpHeaders
  /** The TCP peer: the proxy, when there is one. */
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined
}

/**
 * The view of a Fastify or Express request: both resolve `ip` under their trust-proxy setting;
 * `trust` is that setting compiled (undefined: trust no one) and `setting` its name as the user
 * writes it, for the warnings. An address the setting trusts as a proxy is no client's.
 */
export function requestView(request: ViewableRequest, trust?: TrustProxyFn, setting = 'the trust-proxy setting'): RequestView {
  const { headers } = request
  const header = (name: string): string | string[] | undefined => headers[name]
  const address = addressNote(request.ip, request.socket?.remoteAddress, headers['x-forwarded-for'], trust, setting)
  if (address === undefined) return { ip: request.ip, header }
  return { ip: address.kind === 'trusted-proxy' ? undefined : request.ip, header, address }
}
