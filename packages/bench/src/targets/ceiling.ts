import type { TargetOptions, TargetServer } from './catalog.js'
import { fastifyTarget } from './fastify-app.js'

/** Fastify with no limiter: the most any limiter on Fastify could reach. */
export function build(_options: TargetOptions): Promise<TargetServer> {
  return fastifyTarget(() => {})
}
