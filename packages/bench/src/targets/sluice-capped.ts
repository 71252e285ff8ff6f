import type { TargetOptions, TargetServer } from './catalog.js'
import { sluiceTarget } from './sluice.js'

/**
 * @sluice/fastify on a RedisStore capped at one script call per cluster slot per millisecond
 * (`batchIntervalMs: 1`, the opt-in cap on Redis CPU): what the cap saves Redis and costs in
 * latency beside the default, which sends each batch as soon as the last one is answered.
 */
export const build = (options: TargetOptions): Promise<TargetServer> => sluiceTarget(options, { batchIntervalMs: 1 })
