/**
 * The benchmark's command line.
 *
 *   pnpm bench [options]     (builds, then runs packages/bench/dist/cli.js: the compiled code users run)
 *   pnpm bench:cpu [options] (the same with --only cpu)
 *   pnpm bench:sweep [options] (the same with --only sweep)
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseFlags, parseOrExit, UsageError, wholeFlag } from '@sluice/harness'
import { BENCH_PARTS, type BenchConfig, type BenchPart, DEFAULT_CONFIG, SMOKE_CONFIG } from './config.js'
import { formatWithBiome } from './format-output.js'
import { renderMarkdown } from './markdown.js'
import { runBenchmark } from './runner.js'
import { SCENARIO_NAMES, type ScenarioName } from './scenarios.js'
import { sweepCharts } from './sweep-charts.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DOCS = resolve(REPO_ROOT, 'docs/benchmarks.md')

const { cpu, throughput, sweep } = DEFAULT_CONFIG

const USAGE = `Usage: cli.ts [options]

Sluice against no limiter and its peers, interleaved, on a redis-server of its own: CPU per
request at a fixed load, throughput, latency and CPU against offered load (the sweep), and Redis
memory per idle key.

  --only <part>        run only this part (repeatable): ${BENCH_PARTS.join(', ')}
  --rate <n>           CPU per request: requests per second offered to each target (default ${cpu.rate})
  --cpu-duration <s>   CPU per request: seconds per run (default ${cpu.seconds})
  --cpu-rounds <n>     CPU per request: interleaved rounds (default ${cpu.rounds})
  --duration <s>       throughput: seconds per run (default ${throughput.seconds})
  --rounds <n>         throughput: interleaved rounds (default ${throughput.rounds})
  --sweep-duration <s> sweep: seconds per run, and per closed-loop run measuring saturation (default ${sweep.seconds})
  --sweep-rounds <n>   sweep: interleaved rounds, each every load and target (default ${sweep.rounds})
  --connections <n>    autocannon's connections; at a fixed rate, the most requests in flight (default ${cpu.connections})
  --warmup <s>         unmeasured seconds per target before round 1 (default ${cpu.warmupSeconds})
  --keys <n>           distinct keys in the rotating-keys scenario (default ${DEFAULT_CONFIG.rotatingKeys})
  --memory-keys <n>    keys per library for memory per idle key (default ${DEFAULT_CONFIG.memoryKeys})
  --scenario <name>    run only this scenario (repeatable): ${SCENARIO_NAMES.join(', ')}
  --smoke              one 1 s round of each scenario (CPU at ${SMOKE_CONFIG.cpu.rate} req/s) and of the sweep, ${SMOKE_CONFIG.memoryKeys} memory keys: checks the harness only
  --write              write the report to docs/benchmarks.md, and the sweep's charts (SVG) beside it
  --out <file>         write the report to this file instead (the charts go beside it)
  -h, --help           this text`

function parse(argv: readonly string[]): { config: BenchConfig; out: string | undefined; help: boolean } {
  const values = parseFlags(argv, {
    only: { type: 'string', multiple: true },
    rate: { type: 'string' },
    'cpu-duration': { type: 'string' },
    'cpu-rounds': { type: 'string' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    'sweep-duration': { type: 'string' },
    'sweep-rounds': { type: 'string' },
    connections: { type: 'string' },
    warmup: { type: 'string' },
    keys: { type: 'string' },
    'memory-keys': { type: 'string' },
    scenario: { type: 'string', multiple: true },
    smoke: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  })
  const base = values.smoke ? SMOKE_CONFIG : DEFAULT_CONFIG
  const scenarios = values.scenario ?? base.scenarios
  for (const name of scenarios) {
    if (!SCENARIO_NAMES.includes(name as ScenarioName))
      throw new UsageError(`--scenario must be one of ${SCENARIO_NAMES.join(', ')}, got ${JSON.stringify(name)}`)
  }
  const parts = values.only ?? base.parts
  for (const part of parts) {
    if (!BENCH_PARTS.includes(part as BenchPart))
      throw new UsageError(`--only must be one of ${BENCH_PARTS.join(', ')}, got ${JSON.stringify(part)}`)
  }
  const connections = wholeFlag(values.connections, 'connections', base.cpu.connections, 1)
  const warmupSeconds = wholeFlag(values.warmup, 'warmup', base.cpu.warmupSeconds, 0)
  const config: BenchConfig = {
    // In the order they run and print, whatever the order given.
    parts: BENCH_PARTS.filter((part) => parts.includes(part)),
    cpu: {
      rate: wholeFlag(values.rate, 'rate', base.cpu.rate, 1),
      seconds: wholeFlag(values['cpu-duration'], 'cpu-duration', base.cpu.seconds, 1),
      rounds: wholeFlag(values['cpu-rounds'], 'cpu-rounds', base.cpu.rounds, 1),
      connections,
      warmupSeconds,
    },
    throughput: {
      seconds: wholeFlag(values.duration, 'duration', base.throughput.seconds, 1),
      rounds: wholeFlag(values.rounds, 'rounds', base.throughput.rounds, 1),
      connections,
      warmupSeconds,
    },
    sweep: {
      ...base.sweep,
      seconds: wholeFlag(values['sweep-duration'], 'sweep-duration', base.sweep.seconds, 1),
      rounds: wholeFlag(values['sweep-rounds'], 'sweep-rounds', base.sweep.rounds, 1),
      connections,
      warmupSeconds,
    },
    rotatingKeys: wholeFlag(values.keys, 'keys', base.rotatingKeys, 1),
    memoryKeys: wholeFlag(values['memory-keys'], 'memory-keys', base.memoryKeys, 1),
    scenarios: [...new Set(scenarios as ScenarioName[])],
    smoke: values.smoke,
  }
  const out = values.out !== undefined ? resolve(values.out) : values.write ? DOCS : undefined
  // A smoke run's figures must never pass for the published ones.
  if (config.smoke && out === DOCS)
    throw new UsageError('--smoke figures say nothing about speed: not writing docs/benchmarks.md (use --out for another file)')
  return { config, out, help: values.help }
}

/** The command as typed, relative to the repository root, so the report says how to repeat it. */
function commandLine(): string {
  const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)
  const script = relative(REPO_ROOT, process.argv[1] ?? fileURLToPath(import.meta.url))
  // `pnpm bench` builds and then runs exactly this; say the command a reader would type.
  if (script === 'packages/bench/dist/cli.js' && process.execArgv.length === 0) {
    const args = process.argv.slice(2)
    // `pnpm bench:cpu` is `pnpm bench --only cpu` (and so for the sweep): name it as typed.
    if (args[0] === '--only' && (args[1] === 'cpu' || args[1] === 'sweep') && !args.slice(2).includes('--only'))
      return ['pnpm', `bench:${args[1]}`, ...args.slice(2)].map(quote).join(' ')
    return ['pnpm', 'bench', ...args].map(quote).join(' ')
  }
  return ['node', ...process.execArgv, script, ...process.argv.slice(2)].map(quote).join(' ')
}

async function main(): Promise<number> {
  const parsed = parseOrExit('pnpm bench', USAGE, parse)
  const controller = new AbortController()
  const stop = (): void => {
    if (controller.signal.aborted) process.exit(130)
    process.stderr.write('\nstopping: cleaning up the servers and Redis (again to force)\n')
    controller.abort(new Error('interrupted'))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  let result: Awaited<ReturnType<typeof runBenchmark>>
  try {
    result = await runBenchmark(parsed.config, { log: (line) => process.stderr.write(`${line}\n`), signal: controller.signal })
  } catch (error) {
    if (!controller.signal.aborted) throw error
    process.stderr.write('stopped; every server and Redis were shut down\n')
    return 130
  }
  const markdown = renderMarkdown(result, { command: commandLine() })
  process.stdout.write(`\n${markdown}`)
  if (parsed.out !== undefined) {
    await mkdir(dirname(parsed.out), { recursive: true })
    await writeFile(parsed.out, markdown)
    const unformatted = formatWithBiome([parsed.out])
    process.stderr.write(
      `\nwrote ${relative(process.cwd(), parsed.out) || parsed.out}${unformatted === undefined ? '' : ` (${unformatted})`}\n`,
    )
    // Beside the report, which links them by file name.
    for (const chart of result.sweep === undefined ? [] : sweepCharts(result.sweep)) {
      const file = join(dirname(parsed.out), chart.file)
      await writeFile(file, chart.svg)
      process.stderr.write(`wrote ${relative(process.cwd(), file) || file}\n`)
    }
  }
  return 0
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
