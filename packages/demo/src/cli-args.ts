import { decimal, parseFlags, UsageError } from '@sluice/harness'
import { KEY_MODES, type KeyMode } from '@sluice/loadtest/policy'
import { CONFIG_DEFAULTS, type Framework } from './config.js'

/** Which framework the replicas run: one for all, or mixed (Fastify and Express in turn). */
export type FrameworkChoice = Framework | 'mixed'
export const FRAMEWORK_CHOICES: readonly FrameworkChoice[] = ['fastify', 'express', 'mixed']

export interface DemoArgs {
  /** The gateway's port on 127.0.0.1. */
  readonly port: number
  /** Leave the cluster up after the load test, until Ctrl-C. */
  readonly keep: boolean
  /** Run the same load again with replicas that do not share Redis. */
  readonly compareLocal: boolean
  readonly json: boolean
  readonly durationSeconds: number
  readonly capacity: number
  readonly refillPerSecond: number
  readonly keyMode: KeyMode
  readonly framework: FrameworkChoice
  /** Run the shared buckets on a three-master Redis Cluster. */
  readonly redisCluster: boolean
  readonly help: boolean
}

export const DEMO_DEFAULTS = Object.freeze({ port: 8080, durationSeconds: 4 })

export const DEMO_USAGE = `Usage: pnpm demo [options]

Starts Redis, 3 replicas and an nginx gateway on this machine, runs the load test against the
gateway, prints the report, writes an HTML report to reports/, and stops everything again.

  --port <n>         gateway port on 127.0.0.1              default ${DEMO_DEFAULTS.port}
  --keep             leave the cluster up after the test, until Ctrl-C
  --compare-local    run the load again with replicas that do not share Redis
  --json             print one JSON object on stdout (progress goes to stderr)
  --duration <s>     seconds per scenario                    default ${DEMO_DEFAULTS.durationSeconds}
  --capacity <n>     bucket capacity (the burst)              default ${CONFIG_DEFAULTS.capacity}
  --refill <n>       tokens per second                        default ${CONFIG_DEFAULTS.refillPerSecond}
  --key-mode <mode>  ${KEY_MODES.join(' | ')}                           default ${CONFIG_DEFAULTS.keyMode}
  --framework <f>    ${FRAMEWORK_CHOICES.join(' | ')} (Fastify and Express in turn)   default fastify
  --redis-cluster    keep the buckets on a three-master Redis Cluster
  --help

Set REDIS_URL to use a Redis of your own instead of starting one.`

function number(value: string | undefined, what: string, fallback: number, valid: (n: number) => boolean): number {
  if (value === undefined) return fallback
  const n = decimal(value)
  if (!valid(n)) throw new UsageError(`--${what}: ${JSON.stringify(value)} is not valid`)
  return n
}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const values = parseFlags(argv, {
    port: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'compare-local': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    duration: { type: 'string' },
    capacity: { type: 'string' },
    refill: { type: 'string' },
    'key-mode': { type: 'string' },
    framework: { type: 'string' },
    'redis-cluster': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  })
  const keyMode = values['key-mode'] ?? CONFIG_DEFAULTS.keyMode
  if (!KEY_MODES.includes(keyMode as KeyMode)) throw new UsageError(`--key-mode: expected one of ${KEY_MODES.join(', ')}`)
  const framework = values.framework ?? 'fastify'
  if (!FRAMEWORK_CHOICES.includes(framework as FrameworkChoice))
    throw new UsageError(`--framework: expected one of ${FRAMEWORK_CHOICES.join(', ')}`)
  return {
    port: number(values.port, 'port', DEMO_DEFAULTS.port, (n) => Number.isInteger(n) && n >= 1 && n <= 65_535),
    keep: values.keep === true,
    compareLocal: values['compare-local'] === true,
    json: values.json === true,
    durationSeconds: number(values.duration, 'duration', DEMO_DEFAULTS.durationSeconds, (n) => n > 0 && n <= 300),
    capacity: number(values.capacity, 'capacity', CONFIG_DEFAULTS.capacity, (n) => Number.isInteger(n) && n >= 1),
    refillPerSecond: number(values.refill, 'refill', CONFIG_DEFAULTS.refillPerSecond, (n) => n > 0),
    keyMode: keyMode as KeyMode,
    framework: framework as FrameworkChoice,
    redisCluster: values['redis-cluster'] === true,
    help: values.help === true,
  }
}
