import type { TargetOptions, TargetServer } from './catalog.js'
import { fastifyTarget } from './fastify-app.js'
import { sluiceResponse } from './sluice-response.js'

/**
 * Fastify answering every request with the 429 Sluice sends (quota headers, Retry-After, the
 * problem body already serialized), and no limiter: the least a denied request can cost.
 */
export async function build(options: TargetOptions): Promise<TargetServer> {
  const { status, headers, body } = await sluiceResponse(options.limits, 'denied')
  return fastifyTarget(() => {}, { handler: (_request, reply) => reply.code(status).headers(headers).send(body) })
}
