/**
 * What one token-bucket check costs Redis: CPU per check, from Redis's own counters, for script
 * calls of one check and for full batches, against batch size, with @fastify/rate-limit's
 * per-request cost on the same server in the same run as the baseline.
 *
 *   pnpm --filter @sluice/bench script-cost [--rounds <n>] [--checks <n>] [--concurrency <n>] [--paced <rates>]
 *
 * Each case drives a store directly (no HTTP, no app) against a redis-server of its own:
 *   - Sluice: `RedisStore` (the current script). One-check calls with `coalesce: false`, so
 *     every check is its own script call; full batches with `maxBatch: B`, B checks pushed at
 *     once, which the store sends as one call.
 *   - Sluice's previous script (sluiceTokenBucketV2), called with its own encoder on the same
 *     client: what Redis runs is what its RedisStore sent, so its cost is comparable.
 *   - @fastify/rate-limit's Redis store (its Lua script, registered with `defineCommand` as the
 *     plugin does), one call per request.
 * Keys: one hot key (every check allowed: the costliest path, a read and a write), distinct new
 * keys (each a client's first request: a full bucket), and distinct existing keys (each
 * client's second request). The figures are `INFO cpu` (the server process's user + system
 * time: parsing, the script, the reply, the socket) and `INFO commandstats` (the time inside
 * the script call, and the commands it ran), each divided by the checks of the run. Cases are
 * interleaved round by round; the table gives medians over rounds, and ratios are medians of
 * per-round ratios (runs next to each other share the machine's mood).
 *
 * A last part offers checks at fixed rates, evenly paced, through a default RedisStore and one
 * with `batchIntervalMs: 1`: each check's latency in this process, the checks per script call
 * the coalescing made, and Redis CPU per check: what the opt-in cap buys and costs.
 */
import { createRequire } from 'node:module'
import { RedisStore } from '@sluice/core'
import { bucketKey, encodeBatchV2, ipClientId, resolvePolicy, TOKEN_BUCKET_V2_COMMAND, TOKEN_BUCKET_V2_LUA } from '@sluice/core/internal'
import { parseFlags, parseOrExit, startRedis, wholeFlag } from '@sluice/harness'
import type { Redis } from 'ioredis'
import { clientIp } from './memory.js'
import { parseCommandStats } from './redis-accounting.js'
import { median } from './stats.js'

const USAGE = `Usage: script-cost [options]

Redis CPU per token-bucket check: Sluice's script (one-check calls, full batches against batch
size) against its previous version and @fastify/rate-limit, on a redis-server of its own.

  --rounds <n>        interleaved rounds (default 5)
  --checks <n>        checks per case and round (default 20000)
  --concurrency <n>   one-check calls in flight at once (default 32)
  --batches <list>    batch sizes, comma-separated (default 1,16,128,512)
  --paced <list>      checks per second for the coalescing part, comma-separated (default 2000,10000; 0: skip it)
  --paced-seconds <s> seconds per paced run (default 2)
  -h, --help          this text`

type Pattern = 'hot' | 'new' | 'existing'
const PATTERNS: readonly Pattern[] = ['hot', 'new', 'existing']
const PATTERN_LABEL: Record<Pattern, string> = { hot: 'one hot key', new: 'distinct new keys', existing: 'distinct existing keys' }
type Library = 'v4' | 'v2' | 'fastify' | 'floor'
const LIBRARY_LABEL: Record<Library, string> = {
  v4: 'Sluice RedisStore (script V4)',
  v2: 'Sluice script V2 (before)',
  fastify: '@fastify/rate-limit',
  floor: 'floor: `TIME` and one `SET … PX`',
}
const ONE_CHECK_LIBRARIES = ['v4', 'v2', 'fastify', 'floor'] as const

/**
 * The least a script on the Redis clock that writes one key can run, with Sluice's four
 * arguments: no arithmetic, one `TIME`, one `SET` with a TTL, two integers back. Not a limiter.
 */
const FLOOR_COMMAND = 'scriptCostFloor'
const FLOOR_LUA = "local t = redis.call('TIME') redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return { t[1], t[2] }"

interface Config {
  readonly rounds: number
  readonly checks: number
  readonly concurrency: number
  readonly batches: readonly number[]
  readonly paced: readonly number[]
  readonly pacedSeconds: number
  readonly help: boolean
}

function parse(argv: readonly string[]): Config {
  const v = parseFlags(argv, {
    rounds: { type: 'string' },
    checks: { type: 'string' },
    concurrency: { type: 'string' },
    batches: { type: 'string' },
    paced: { type: 'string' },
    'paced-seconds': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  })
  const batches = (v.batches ?? '1,16,128,512').split(',').map((b) => wholeFlag(b, 'batches', 1))
  return {
    rounds: wholeFlag(v.rounds, 'rounds', 5),
    checks: wholeFlag(v.checks, 'checks', 20_000),
    concurrency: wholeFlag(v.concurrency, 'concurrency', 32),
    batches,
    paced: v.paced === '0' ? [] : (v.paced ?? '2000,10000').split(',').map((r) => wholeFlag(r, 'paced', 1)),
    pacedSeconds: wholeFlag(v['paced-seconds'], 'paced-seconds', 2),
    help: v.help === true,
  }
}

// Every check allowed (a hot key takes at most a run's checks of its 100,000 tokens), and each
// token 30 s to refill, so a key written before a run outlives it (its TTL is its debt).
const POLICY = resolvePolicy({ capacity: 100_000, refillPerSecond: 1 / 30 })
const FASTIFY_WINDOW_MS = 600_000
const FASTIFY_MAX = 1_000_000_000

type FastifyRedisStore = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
) => { incr(key: string, cb: (error: Error | null) => void, timeWindow: number, max: number): void }
const FastifyRateLimitRedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore') as FastifyRedisStore

/** Sends `count` checks of client indexes `first…`; `batch` checks per call where it batches. */
type Driver = (first: number, count: number) => Promise<void>

function sluiceKey(i: number): string {
  return bucketKey('sluice:', ipClientId(clientIp(i))!, 'default')
}

/** `count` calls of `one`, at most `concurrency` in flight. */
async function inFlight(count: number, concurrency: number, one: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < count) await one(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane))
}

/** `count` checks in calls of `batch`, one call at a time (the store sends each as one). */
async function inBatches(count: number, batch: number, one: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += batch) {
    const calls: Promise<unknown>[] = []
    for (let i = start; i < Math.min(count, start + batch); i++) calls.push(one(i))
    await Promise.all(calls)
  }
}

function drivers(client: Redis, config: Config, batch: number | undefined): Record<Library, (pattern: Pattern) => Driver> {
  // A run's hot key is the client just before its own: fresh per run, so its tokens last.
  const keyOf = (pattern: Pattern, i: number, first: number): number => (pattern === 'hot' ? first - 1 : i)
  const v4 = new RedisStore(
    client,
    batch === undefined
      ? { coalesce: false, denyCacheKeys: 0, timeoutMs: 60_000 }
      : { maxBatch: batch, batchIntervalMs: 0, denyCacheKeys: 0, timeoutMs: 60_000 },
  )
  if (typeof (client as unknown as Record<string, unknown>)[TOKEN_BUCKET_V2_COMMAND] !== 'function') {
    client.defineCommand(TOKEN_BUCKET_V2_COMMAND, { lua: TOKEN_BUCKET_V2_LUA })
  }
  const v2Command = (client as unknown as Record<string, (n: number, ...args: (string | number)[]) => Promise<unknown>>)[
    TOKEN_BUCKET_V2_COMMAND
  ]!.bind(client)
  const fastify = new FastifyRateLimitRedisStore(false, false, client)
  if (typeof (client as unknown as Record<string, unknown>)[FLOOR_COMMAND] !== 'function')
    client.defineCommand(FLOOR_COMMAND, { lua: FLOOR_LUA })
  const floor = (client as unknown as Record<string, (n: number, ...args: (string | number)[]) => Promise<unknown>>)[FLOOR_COMMAND]!.bind(
    client,
  )
  const request = (pattern: Pattern, first: number, i: number) => ({
    keys: [sluiceKey(keyOf(pattern, first + i, first))],
    policies: [POLICY],
    cost: 1,
  })
  const spread = (send: (first: number, pattern: Pattern) => (i: number) => Promise<unknown>) => (pattern: Pattern) => {
    return (first: number, count: number) =>
      batch === undefined ? inFlight(count, config.concurrency, send(first, pattern)) : inBatches(count, batch, send(first, pattern))
  }
  return {
    v4: spread((first, pattern) => (i) => v4.check(request(pattern, first, i))),
    v2:
      batch === undefined
        ? spread((first, pattern) => (i) => {
            const { keys, args } = encodeBatchV2([request(pattern, first, i)], 0)
            return v2Command(keys.length, ...keys, ...args)
          })
        : (pattern) => async (first, count) => {
            for (let start = 0; start < count; start += batch) {
              const checks = []
              for (let i = start; i < Math.min(count, start + batch); i++) checks.push(request(pattern, first, i))
              const { keys, args } = encodeBatchV2(checks, 0)
              await v2Command(keys.length, ...keys, ...args)
            }
          },
    floor: spread(
      (first, pattern) => (i) => floor(1, sluiceKey(keyOf(pattern, first + i, first)), 0, 1_764_000_000_000_000_000, 30_000, 65),
    ),
    fastify: spread(
      (first, pattern) => (i) =>
        new Promise<void>((resolve, reject) =>
          fastify.incr(
            clientIp(keyOf(pattern, first + i, first)),
            (error) => (error ? reject(error) : resolve()),
            FASTIFY_WINDOW_MS,
            FASTIFY_MAX,
          ),
        ),
    ),
  }
}

async function cpuSeconds(admin: Redis): Promise<number> {
  const info = await admin.info('cpu')
  const field = (name: string): number => Number(new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1])
  return field('used_cpu_user') + field('used_cpu_sys')
}

/** `usec` of every script call (EVALSHA, EVAL) and the commands scripts ran, from INFO commandstats. */
async function scriptStats(admin: Redis): Promise<{ scriptUs: number; calls: number; inner: number }> {
  const info = await admin.info('commandstats')
  let scriptUs = 0
  let calls = 0
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+),usec=(\d+)/gm)) {
    calls += Number(match[2])
    scriptUs += Number(match[3])
  }
  const counts = parseCommandStats(info)
  const inner = Object.entries(counts).reduce((sum, [name, n]) => (name === 'evalsha' || name === 'eval' ? sum : sum + n), 0)
  return { scriptUs, calls, inner }
}

interface Sample {
  /** Redis process CPU (INFO cpu), µs per check. */
  readonly cpuUs: number
  /** Time inside the script calls (INFO commandstats), µs per check. */
  readonly scriptUs: number
  readonly callsPerCheck: number
  readonly innerPerCheck: number
}

let nextClient = 1

async function measure(admin: Redis, pattern: Pattern, driver: Driver, checks: number): Promise<Sample> {
  // Fresh client indexes per run: 64 for an unmeasured warm-up (the store learns the Redis
  // clock, the script is loaded), then the run's own. Existing keys are the run's own, written
  // once, unmeasured, before it.
  const warmUp = nextClient
  const first = warmUp + 64
  nextClient = first + checks
  await driver(warmUp, 64)
  if (pattern === 'existing') await driver(first, checks)
  await admin.config('RESETSTAT')
  const before = await cpuSeconds(admin)
  await driver(first, checks)
  const after = await cpuSeconds(admin)
  const stats = await scriptStats(admin)
  return {
    cpuUs: ((after - before) * 1e6) / checks,
    scriptUs: stats.scriptUs / checks,
    callsPerCheck: stats.calls / checks,
    innerPerCheck: stats.inner / checks,
  }
}

interface Case {
  readonly name: string
  readonly library: Library
  readonly pattern: Pattern
  /** Undefined: one check per call. */
  readonly batch: number | undefined
}

function cases(config: Config): Case[] {
  const list: Case[] = []
  for (const pattern of PATTERNS) {
    for (const library of ONE_CHECK_LIBRARIES) list.push({ name: `${library}/${pattern}/1`, library, pattern, batch: undefined })
  }
  for (const batch of config.batches) {
    for (const pattern of PATTERNS) {
      for (const library of ['v4', 'v2'] as const) list.push({ name: `${library}/${pattern}/b${batch}`, library, pattern, batch })
    }
  }
  return list
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '—')

interface PacedSample {
  readonly meanMs: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly checksPerCall: number
  readonly cpuUs: number
}

/**
 * Checks offered at `rate` per second, evenly paced (not a closed loop: a check never waits for
 * another to be answered before it is made), through a RedisStore with `batchIntervalMs`; 1,000
 * clients in turn. The latency is each check's, from the call to its answer, in this process.
 */
async function paced(
  server: Awaited<ReturnType<typeof startRedis>>,
  admin: Redis,
  intervalMs: number,
  rate: number,
  seconds: number,
): Promise<PacedSample> {
  const client = server.client()
  try {
    const store = new RedisStore(client, { batchIntervalMs: intervalMs, denyCacheKeys: 0, timeoutMs: 60_000 })
    const first = nextClient
    nextClient += 1_000
    await store.check({ keys: [sluiceKey(first - 1)], policies: [POLICY], cost: 1 })
    await admin.config('RESETSTAT')
    const before = await cpuSeconds(admin)
    const total = rate * seconds
    const latencies: number[] = []
    const answers: Promise<unknown>[] = []
    const start = performance.now()
    let made = 0
    await new Promise<void>((done) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate))
        while (made < due) {
          const at = performance.now()
          const i = made++
          answers.push(
            store
              .check({ keys: [sluiceKey(first + (i % 1_000))], policies: [POLICY], cost: 1 })
              .then(() => latencies.push(performance.now() - at)),
          )
        }
        if (made < total) setImmediate(tick)
        else done()
      }
      tick()
    })
    await Promise.all(answers)
    const after = await cpuSeconds(admin)
    const stats = await scriptStats(admin)
    latencies.sort((a, b) => a - b)
    return {
      meanMs: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      p50Ms: latencies[Math.floor(latencies.length / 2)]!,
      p99Ms: latencies[Math.floor(latencies.length * 0.99)]!,
      checksPerCall: total / stats.calls,
      cpuUs: ((after - before) * 1e6) / total,
    }
  } finally {
    client.disconnect()
  }
}

async function main(): Promise<void> {
  const config = parseOrExit('script-cost', USAGE, parse)
  const server = await startRedis()
  try {
    const admin = server.client()
    const client = server.client()
    const all = cases(config)
    const pacedSamples = new Map<string, PacedSample[]>()
    const byBatch = new Map<number | undefined, Record<Library, (pattern: Pattern) => Driver>>()
    const samples = new Map<string, Sample[]>()
    for (let round = 0; round < config.rounds; round++) {
      // Rotate the order, so no case always runs first (or right after another).
      const order = all.map((_, i) => all[(i + round * 7) % all.length]!)
      for (const c of order) {
        let d = byBatch.get(c.batch)
        if (d === undefined) {
          d = drivers(client, config, c.batch)
          byBatch.set(c.batch, d)
        }
        const sample = await measure(admin, c.pattern, d[c.library](c.pattern), config.checks)
        samples.set(c.name, [...(samples.get(c.name) ?? []), sample])
      }
      for (const rate of config.paced) {
        for (const intervalMs of round % 2 === 0 ? [0, 1] : [1, 0]) {
          const name = `${intervalMs}/${rate}`
          pacedSamples.set(name, [...(pacedSamples.get(name) ?? []), await paced(server, admin, intervalMs, rate, config.pacedSeconds)])
        }
      }
      await admin.flushdb()
      process.stderr.write(`round ${round + 1}/${config.rounds} done\n`)
    }
    const med = (name: string, f: (s: Sample) => number): number => median((samples.get(name) ?? []).map(f))
    const ratio = (a: string, b: string, f: (s: Sample) => number): number => {
      const sa = samples.get(a) ?? []
      const sb = samples.get(b) ?? []
      return median(sa.map((s, i) => f(s) / f(sb[i]!)).filter(Number.isFinite))
    }
    const cpu = (s: Sample): number => s.cpuUs
    const script = (s: Sample): number => s.scriptUs
    const lines: string[] = []
    lines.push(
      `Redis ${await admin.info('server').then((i) => /redis_version:(\S+)/.exec(i)?.[1])}, ${config.rounds} rounds of ${config.checks} checks per case; medians.`,
    )
    lines.push('')
    lines.push('### One check per call')
    lines.push('')
    lines.push(
      '| keys | library | Redis CPU µs/check | in script µs/check | commands in script/check | CPU vs V2 | CPU vs @fastify/rate-limit |',
    )
    lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
    for (const pattern of PATTERNS) {
      for (const library of ONE_CHECK_LIBRARIES) {
        const name = `${library}/${pattern}/1`
        lines.push(
          `| ${PATTERN_LABEL[pattern]} | ${LIBRARY_LABEL[library]} | ${fmt(med(name, cpu))} | ${fmt(med(name, script))} | ${fmt(med(name, (s) => s.innerPerCheck))} | ${library === 'v4' ? `${fmt(ratio(name, `v2/${pattern}/1`, cpu))}×` : ''} | ${fmt(ratio(name, `fastify/${pattern}/1`, cpu))}× |`,
        )
      }
    }
    lines.push('')
    lines.push('### Full batches (one script call of B checks)')
    lines.push('')
    lines.push(
      '| keys | B | V4 Redis CPU µs/check | V2 Redis CPU µs/check | V4/V2 CPU | V4 in script µs/check | V2 in script µs/check | V4 calls/check |',
    )
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (const pattern of PATTERNS) {
      for (const batch of config.batches) {
        const v4 = `v4/${pattern}/b${batch}`
        const v2 = `v2/${pattern}/b${batch}`
        lines.push(
          `| ${PATTERN_LABEL[pattern]} | ${batch} | ${fmt(med(v4, cpu))} | ${fmt(med(v2, cpu))} | ${fmt(ratio(v4, v2, cpu))}× | ${fmt(med(v4, script))} | ${fmt(med(v2, script))} | ${fmt(
            med(v4, (s) => s.callsPerCheck),
            4,
          )} |`,
        )
      }
    }
    if (config.paced.length > 0) {
      const pmed = (name: string, f: (s: PacedSample) => number): number => median((pacedSamples.get(name) ?? []).map(f))
      lines.push('')
      lines.push(`### Coalescing at a paced load (RedisStore, checks of 1,000 clients in turn, ${config.pacedSeconds} s per run)`)
      lines.push('')
      lines.push('| checks/s | batchIntervalMs | mean ms | p50 ms | p99 ms | checks per call | Redis CPU µs/check |')
      lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
      for (const rate of config.paced) {
        for (const intervalMs of [0, 1]) {
          const name = `${intervalMs}/${rate}`
          lines.push(
            `| ${rate} | ${intervalMs} | ${fmt(
              pmed(name, (p) => p.meanMs),
              3,
            )} | ${fmt(
              pmed(name, (p) => p.p50Ms),
              3,
            )} | ${fmt(
              pmed(name, (p) => p.p99Ms),
              3,
            )} | ${fmt(pmed(name, (p) => p.checksPerCall))} | ${fmt(pmed(name, (p) => p.cpuUs))} |`,
          )
        }
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`)
  } finally {
    await server.stop()
  }
}

await main()
