import type { TargetOptions, TargetServer } from './catalog.js'
import { fastifyTarget } from './fastify-app.js'
import { sluiceResponse } from './sluice-response.js'

/**
 * Fastify sending the quota headers Sluice sends with a 200, as constants, and no limiter: the
 * least an allowed request through Sluice can cost.
 */
export async function build(options: TargetOptions): Promise<TargetServer> {
  const { headers } = await sluiceResponse(options.limits, 'allowed')
  return fastifyTarget(() => {}, {
    handler: async (_request, reply) => {
      reply.headers(headers)
      return 'ok'
    },
  })
}
