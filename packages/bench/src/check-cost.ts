/**
 * What a check costs the app: CPU per check in the process that makes it, driving a limiter
 * directly (`route.check`, no HTTP) on a RedisStore with its defaults, one hot key, every check
 * allowed, at a few concurrencies (1: every check its own script call; more: the coalescing
 * shares calls). With `--against <dir>`, the same runs with another built checkout's
 * @sluice/core (a `git worktree` of the parent commit, say), interleaved round by round:
 * what a change to the check's path saves, as medians of per-round ratios.
 *
 *   pnpm bench:check-cost [--rounds <n>] [--checks <n>] [--concurrency <list>] [--against <dir>]
 *
 * Each run is a process of its own (check-cost-child.ts), on one redis-server started for the
 * whole command.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseFlags, parseOrExit, startRedis, wholeFlag } from '@sluice/harness'
import { median } from './stats.js'

const USAGE = `Usage: check-cost [options]

App CPU per check through a limiter on Redis (no HTTP), at each concurrency; with --against, the
same against another built checkout, interleaved.

  --rounds <n>          interleaved rounds (default 5)
  --checks <n>          checks per run (default 40000)
  --concurrency <list>  checks in flight at once, comma-separated (default 1,4,32)
  --against <dir>       the root of another checkout, built (pnpm run build), to compare with
  -h, --help            this text`

interface Config {
  readonly rounds: number
  readonly checks: number
  readonly concurrency: readonly number[]
  readonly against: string | undefined
  readonly help: boolean
}

function parse(argv: readonly string[]): Config {
  const v = parseFlags(argv, {
    rounds: { type: 'string' },
    checks: { type: 'string' },
    concurrency: { type: 'string' },
    against: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  })
  return {
    rounds: wholeFlag(v.rounds, 'rounds', 5),
    checks: wholeFlag(v.checks, 'checks', 40_000),
    concurrency: (v.concurrency ?? '1,4,32').split(',').map((c) => wholeFlag(c, 'concurrency', 1)),
    against: v.against,
    help: v.help === true,
  }
}

interface Run {
  readonly userUs: number
  readonly systemUs: number
  readonly wallUs: number
}

const THIS_ROOT = fileURLToPath(new URL('../../..', import.meta.url))
// The child runs from this package's build, whichever way this file runs (tsx or its build).
const CHILD = fileURLToPath(new URL('../dist/check-cost-child.js', import.meta.url))

async function once(root: string, port: number, concurrency: number, checks: number): Promise<Run> {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD, root, String(port), String(concurrency), String(checks)])
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Run
}

const f = (n: number): string => n.toFixed(2)

async function main(): Promise<void> {
  const config = parseOrExit('check-cost', USAGE, parse)
  if (config.help) return
  const roots = config.against === undefined ? [THIS_ROOT] : [THIS_ROOT, config.against]
  const redis = await startRedis({ args: ['--save', '', '--appendonly', 'no'] })
  try {
    console.log(`check-cost: ${config.checks} checks a run, ${config.rounds} rounds; this checkout: ${THIS_ROOT}`)
    if (config.against !== undefined) console.log(`against: ${config.against}`)
    console.log(
      '| Concurrency | Checkout | User µs/check | System µs/check | Wall µs/check |' +
        (roots.length > 1 ? ' User ÷ against | Wall ÷ against |' : ''),
    )
    console.log('| ---: | --- | ---: | ---: | ---: |' + (roots.length > 1 ? ' ---: | ---: |' : ''))
    for (const concurrency of config.concurrency) {
      const runs: Run[][] = roots.map(() => [])
      for (let round = 0; round < config.rounds; round++) {
        for (const [i, root] of roots.entries()) runs[i]!.push(await once(root, redis.port, concurrency, config.checks))
      }
      for (const [i, root] of roots.entries()) {
        const r = runs[i]!
        const ratios =
          roots.length > 1 && i === 0
            ? ` ${f(median(r.map((x, k) => x.userUs / runs[1]![k]!.userUs)))}× | ${f(median(r.map((x, k) => x.wallUs / runs[1]![k]!.wallUs)))}× |`
            : roots.length > 1
              ? ' | |'
              : ''
        const name = i === 0 ? 'this' : 'against'
        console.log(
          `| ${concurrency} | ${name} (${root}) | ${f(median(r.map((x) => x.userUs)))} | ${f(median(r.map((x) => x.systemUs)))} | ${f(median(r.map((x) => x.wallUs)))} |${ratios}`,
        )
      }
    }
  } finally {
    await redis.kill()
  }
}

await main()
