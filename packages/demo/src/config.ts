import { hostname } from 'node:os'
import { decimal } from '@sluice/harness'
import { API_KEY_HEADER, DEFAULT_POLICY, KEY_MODES, type KeyMode } from '@sluice/loadtest/policy'
import ipaddr from 'ipaddr.js'

/**
 * A replica's settings, read from the environment once at start-up. docker-compose, the local
 * cluster runner and the tests all go through `loadConfig`, so the variable names below are the
 * only ones there are.
 */

/** The web framework a replica runs on: both adapters answer alike, so a cluster may mix them. */
export type Framework = 'fastify' | 'express'
export const FRAMEWORKS: readonly Framework[] = ['fastify', 'express']

export interface DemoConfig {
  /** Where the buckets live; undefined keeps them in this process (each replica on its own). */
  readonly redisUrl: string | undefined
  /** Treat `redisUrl` as a seed node of a Redis Cluster. */
  readonly redisCluster: boolean
  readonly framework: Framework
  readonly capacity: number
  readonly refillPerSecond: number
  readonly keyMode: KeyMode
  /** Namespace of this demo's Redis keys, so runs on a reused Redis never share buckets. */
  readonly prefix: string
  /** Stamped on every response as X-Instance-Id. */
  readonly instanceId: string
  /** Addresses (or CIDR ranges) whose X-Forwarded-For is believed: the gateway's, nothing else. */
  readonly trustedProxy: readonly string[]
  /** How many replicas share Redis: while it is down each one enforces its share. */
  readonly replicas: number
  /** Each Redis call's time budget, past which the replica answers locally; undefined: Sluice's default. */
  readonly timeoutMs: number | undefined
  readonly port: number
  readonly host: string
  readonly logLevel: string
}

/** Every variable `loadConfig` reads, with what it means and its default. */
export const CONFIG_ENV = {
  REDIS_URL: "redis:// URL of the shared Redis; unset keeps buckets in each replica's memory",
  REDIS_CLUSTER: 'true when REDIS_URL is a seed node of a Redis Cluster',
  DEMO_FRAMEWORK: `the replica's web framework: ${FRAMEWORKS.join(' | ')}`,
  RATE_CAPACITY: 'bucket capacity, the largest burst (whole number ≥ 1)',
  RATE_REFILL_PER_SECOND: 'tokens added per second (> 0, may be fractional)',
  RATE_PREFIX: 'prefix of the Redis keys',
  KEY_MODE: `what a bucket belongs to: ${KEY_MODES.join(' | ')} (the ${API_KEY_HEADER} header)`,
  INSTANCE_ID: "this replica's name in X-Instance-Id",
  TRUSTED_PROXY: 'comma-separated addresses or CIDRs of the gateway, trusted for X-Forwarded-For',
  REPLICAS: 'how many replicas share Redis (sizes the local fallback buckets)',
  RATE_TIMEOUT_MS: "each Redis call's time budget in milliseconds, past which the replica answers locally (default: Sluice's)",
  PORT: 'port to listen on',
  HOST: 'address to listen on',
  LOG_LEVEL: 'pino level: fatal, error, warn, info, debug, trace or silent',
} as const

export type ConfigEnvName = keyof typeof CONFIG_ENV

export const CONFIG_DEFAULTS = Object.freeze({
  ...DEFAULT_POLICY,
  framework: 'fastify' as Framework,
  prefix: 'sluice:',
  replicas: 1,
  port: 3000,
  host: '127.0.0.1',
  logLevel: 'info',
})

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const PREFIX = /^[^{}\s]{0,64}$/

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid replica configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

type Env = Readonly<Record<string, string | undefined>>

/** Reads variables, collecting every problem so one run reports all of them. */
class Reader {
  readonly problems: string[] = []
  constructor(private readonly env: Env) {}

  raw(name: ConfigEnvName): string | undefined {
    const value = this.env[name]?.trim()
    return value === '' ? undefined : value
  }

  fail(name: ConfigEnvName, value: string, expected: string): undefined {
    this.problems.push(`${name}=${JSON.stringify(value)}: expected ${expected}`)
    return undefined
  }

  number<F extends number | undefined>(name: ConfigEnvName, fallback: F, check: (n: number) => boolean, expected: string): number | F {
    const value = this.raw(name)
    if (value === undefined) return fallback
    const n = decimal(value)
    return check(n) ? n : (this.fail(name, value, expected) ?? fallback)
  }

  oneOf<T extends string>(name: ConfigEnvName, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name)
    if (value === undefined) return fallback
    return allowed.includes(value as T) ? (value as T) : (this.fail(name, value, `one of ${allowed.join(', ')}`) ?? fallback)
  }
}

/**
 * An address or a CIDR range as the frameworks' trust-proxy settings (proxy-addr, on ipaddr.js)
 * read it, with its prefix length: a single address is a full-length range.
 */
function parseRange(entry: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  if (ipaddr.isValidCIDR(entry)) return ipaddr.parseCIDR(entry)
  if (!ipaddr.isValid(entry)) return undefined
  const address = ipaddr.parse(entry)
  return [address, address.kind() === 'ipv4' ? 32 : 128]
}

function redisUrl(r: Reader): string | undefined {
  const value = r.raw('REDIS_URL')
  if (value === undefined) return undefined
  try {
    const url = new URL(value)
    if (url.protocol === 'redis:' || url.protocol === 'rediss:') return value
  } catch {
    // reported below
  }
  return r.fail('REDIS_URL', value, 'a redis:// or rediss:// URL')
}

function trustedProxy(r: Reader): readonly string[] {
  const value = r.raw('TRUSTED_PROXY')
  if (value === undefined) return []
  const entries = value.split(',').map((e) => e.trim())
  const ranges = entries.map(parseRange)
  if (ranges.includes(undefined)) return r.fail('TRUSTED_PROXY', value, 'comma-separated IP addresses or CIDR ranges') ?? []
  // Trusting every address lets any client pick its own bucket with X-Forwarded-For.
  if (ranges.some((range) => range?.[1] === 0))
    return r.fail('TRUSTED_PROXY', value, "the gateway's address, not a range covering every address") ?? []
  return Object.freeze(entries)
}

/** Read and validate a replica's settings; throws one `ConfigError` naming every bad variable. */
export function loadConfig(env: Env = process.env): DemoConfig {
  const r = new Reader(env)
  const d = CONFIG_DEFAULTS
  const prefix = r.raw('RATE_PREFIX') ?? d.prefix
  if (!PREFIX.test(prefix)) r.fail('RATE_PREFIX', prefix, 'at most 64 characters without braces or spaces')
  const config: DemoConfig = {
    redisUrl: redisUrl(r),
    redisCluster: r.oneOf('REDIS_CLUSTER', 'false', ['true', 'false']) === 'true',
    framework: r.oneOf('DEMO_FRAMEWORK', d.framework, FRAMEWORKS),
    capacity: r.number(
      'RATE_CAPACITY',
      d.capacity,
      (n) => Number.isInteger(n) && n >= 1 && n <= 2 ** 31,
      'a whole number from 1 to 2147483648',
    ),
    refillPerSecond: r.number(
      'RATE_REFILL_PER_SECOND',
      d.refillPerSecond,
      (n) => n > 0 && n <= 1e9,
      'a number of tokens per second above 0',
    ),
    keyMode: r.oneOf('KEY_MODE', d.keyMode, KEY_MODES),
    prefix,
    instanceId: r.raw('INSTANCE_ID') ?? hostname(),
    trustedProxy: trustedProxy(r),
    replicas: r.number('REPLICAS', d.replicas, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000, 'a whole number from 1 to 10000'),
    timeoutMs: r.number(
      'RATE_TIMEOUT_MS',
      undefined,
      (n) => Number.isInteger(n) && n >= 1 && n <= 60_000,
      'a whole number of milliseconds from 1 to 60000',
    ),
    port: r.number('PORT', d.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'a port number from 0 to 65535'),
    host: r.raw('HOST') ?? d.host,
    logLevel: r.oneOf('LOG_LEVEL', d.logLevel, LOG_LEVELS),
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems)
  return Object.freeze(config)
}

/** The environment that makes `loadConfig` return `config`: how the cluster runner starts replicas. */
export function configEnv(config: DemoConfig): Record<ConfigEnvName, string | undefined> {
  return {
    REDIS_URL: config.redisUrl,
    REDIS_CLUSTER: config.redisCluster ? 'true' : undefined,
    DEMO_FRAMEWORK: config.framework,
    RATE_CAPACITY: String(config.capacity),
    RATE_REFILL_PER_SECOND: String(config.refillPerSecond),
    RATE_PREFIX: config.prefix,
    KEY_MODE: config.keyMode,
    INSTANCE_ID: config.instanceId,
    TRUSTED_PROXY: config.trustedProxy.length > 0 ? config.trustedProxy.join(',') : undefined,
    REPLICAS: String(config.replicas),
    RATE_TIMEOUT_MS: config.timeoutMs === undefined ? undefined : String(config.timeoutMs),
    PORT: String(config.port),
    HOST: config.host,
    LOG_LEVEL: config.logLevel,
  }
}
