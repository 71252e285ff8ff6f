/**
 * One run of check-cost.ts, in a process of its own: `check-cost-child <root> <redis port>
 * <concurrency> <checks>`. Loads @sluice/core from `<root>`'s build (this checkout's, or the one
 * it is compared with), so both sides run the same way, then prints one JSON line: this
 * process's user and system CPU and the wall time per check, over `checks` checks made
 * `concurrency` at a time after an unmeasured warm-up.
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [root, port, concurrency, checks] = process.argv.slice(2)
const WARM_UP = 3_000

// Both sides' own client, as each checkout's lockfile has it.
const requireFromCore = createRequire(join(root!, 'packages/core/package.json'))
const { Redis } = requireFromCore('ioredis') as typeof import('ioredis')
const core = (file: string): Promise<Record<string, unknown>> => import(pathToFileURL(join(root!, 'packages/core/dist', file)).href)
const { createLimiter } = (await core('adapter.js')) as typeof import('@sluice/core/adapter')
const { RedisStore } = (await core('index.js')) as typeof import('@sluice/core')

const redis = new Redis({ host: '127.0.0.1', port: Number(port) })
const quiet = { warn() {}, error() {}, info() {} }
// Every check allowed: the costliest path (a read and a write of the bucket).
const limiter = createLimiter({ store: new RedisStore(redis), capacity: 1e9, refillPerSecond: 1e8, key: { header: 'x-key' } }, [], quiet)
const route = limiter.forRoute(undefined, '*', '*')!
const view = { ip: '127.0.0.1', header: (name: string) => (name === 'x-key' ? 'k1' : undefined) }

async function run(n: number): Promise<void> {
  let left = n
  const worker = async (): Promise<void> => {
    while (left-- > 0) await route.check({}, view)
  }
  await Promise.all(Array.from({ length: Number(concurrency) }, worker))
}

await run(WARM_UP)
const n = Number(checks)
const cpu0 = process.cpuUsage()
const t0 = performance.now()
await run(n)
const cpu = process.cpuUsage(cpu0)
const wallMs = performance.now() - t0
console.log(JSON.stringify({ userUs: cpu.user / n, systemUs: cpu.system / n, wallUs: (wallMs * 1000) / n }))
limiter.close()
redis.disconnect()
