import type { LoggerOptions } from 'pino'
import type { DemoConfig } from './config.js'

/**
 * The replica's log settings, whatever its framework: pino's JSON lines on stdout, each naming
 * the instance, at the configured level. Fastify builds its pino logger from them, the Express
 * replica calls pino with them, so both kinds of replica log alike.
 */
export function logOptions(config: DemoConfig): LoggerOptions {
  return { level: config.logLevel, base: { instance: config.instanceId } }
}
