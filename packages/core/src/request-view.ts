import type { IncomingHttpHeaders } from 'node:http'
import type { RequestView } from './types.js'

/** The view of a Fastify or Express request: both resolve `ip` under their trust-proxy setting. */
export function requestView(request: { readonly ip: string | undefined; readonly headers: IncomingHttpHeaders }): RequestView {
  return { ip: request.ip, header: (name) => request.headers[name] }
}
