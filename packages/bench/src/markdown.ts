import { evaluateGoals, type Goal, SWEEP_MIN_ROUNDS } from './goals.js'
import { count, fineMs, fixed, int, ms, percent, signedUs, table, times, warnings } from './markdown-format.js'
import { sweepSection } from './markdown-sweep.js'
import type { BenchResult, ScenarioResult, TargetSummary } from './results.js'
import { TARGETS } from './targets/catalog.js'

export interface MarkdownOptions {
  /** The exact command that produced the result. */
  readonly command: string
}

function verdict(goal: Goal): string {
  const result = goal.met === undefined ? 'not measured' : goal.met ? '**met**' : '**missed**'
  return goal.behind.length > 0 ? `${result} ⚠` : result
}

function mix(t: TargetSummary): string {
  const entries = Object.entries(t.commandMix)
    .filter(([, perResponse]) => perResponse >= 0.0005)
    .sort((a, b) => b[1] - a[1])
  return entries.length === 0 ? 'none' : entries.map(([command, perResponse]) => `${command} ${perResponse.toFixed(3)}`).join(', ')
}

function measured(s: ScenarioResult): TargetSummary[] {
  return s.targets.filter((t) => t.unavailable === undefined)
}

const isSluice = (t: TargetSummary): boolean => t.target === 'sluice' || t.target === 'sluice-capped' || t.target === 'express-sluice'

/** The label in bold for the targets the others are compared with. */
function label(s: ScenarioResult, t: TargetSummary): string {
  return t.target === s.ceiling || t.target === s.baseline ? `**${t.label}**` : t.label
}

function notMeasuredRows(s: ScenarioResult, width: number): string[][] {
  return s.targets
    .filter((t) => t.unavailable !== undefined)
    .map((t) => [t.label, `not measured: ${t.unavailable}`, ...Array(width - 2).fill('')])
}

function answers(t: TargetSummary): string {
  const parts: string[] = []
  if (t.ok > 0) parts.push(`2xx ${percent(t.ok, t.responses)}`)
  if (t.denied > 0) parts.push(`429 ${percent(t.denied, t.responses)}`)
  if (t.failures > 0) parts.push(`**other ${int(t.failures)}**`)
  return parts.join(', ') || '–'
}

function cpuScenarioSection(s: ScenarioResult): string {
  const offered = `Offered: ${int(s.offeredRps ?? Number.NaN)} req/s to each target.`
  const rows = measured(s).map((t) => [
    label(s, t),
    fixed(t.appUs, 1),
    `${fixed(t.minAppUs, 1)} – ${fixed(t.maxAppUs, 1)}`,
    fixed(t.redisUs, 1),
    fixed(t.totalUs, 1),
    fixed(t.commandsPerResponse, 3),
    fineMs(t.p50Ms),
    fineMs(t.p99Ms),
    `${int(t.medianRps)}${t.keptUp ? '' : ' ⚠'}`,
    answers(t),
    t.response === undefined ? '–' : `${t.response.status}, ${t.response.bytes} B`,
  ])
  const lines = [
    `### ${s.title}`,
    '',
    `${s.description} Policy: capacity ${int(s.limits.capacity)}, refill ${int(s.limits.refillPerSecond)}/s. ${offered}`,
    '',
    table(
      [
        'Target',
        'App µs/req',
        'App µs/req, range over rounds',
        'Redis µs/req',
        'App + Redis µs/req',
        'Redis commands/req',
        'p50 ms',
        'p99 ms',
        'Answered req/s',
        'Answers',
        'Response',
      ],
      [...rows, ...notMeasuredRows(s, 11)],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r'],
    ),
  ]
  const baseline = measured(s).find((t) => t.target === s.baseline)
  const peer = measured(s).find((t) => t.target === 'fastify-rate-limit')
  for (const sluice of measured(s).filter(isSluice)) {
    if (baseline !== undefined) {
      lines.push(
        '',
        `${sluice.label} over ${baseline.label.replace(/, no limiter$/, '')} with no limiter: app CPU **${signedUs(sluice.appUs - baseline.appUs)}**,` +
          ` app + Redis **${signedUs(sluice.totalUs - baseline.totalUs)}** per request.`,
      )
    }
    if (peer !== undefined) {
      lines.push(
        '',
        `${sluice.label} ÷ ${peer.label}: Redis CPU **${times(sluice.redisUs / peer.redisUs)}**, app + Redis **${times(sluice.totalUs / peer.totalUs)}**.`,
      )
    }
  }
  lines.push(...warnings(measured(s)))
  return lines.join('\n')
}

function throughputScenarioSection(s: ScenarioResult): string {
  const rows = measured(s).map((t) => [
    label(s, t),
    int(t.medianRps),
    `${int(t.minRps)} – ${int(t.maxRps)}`,
    t.target === s.ceiling ? '1.00×' : times(t.ratioToCeiling),
    t.target === s.ceiling ? '1.00×' : times(t.pairedRatioToCeiling),
    t.target === s.baseline ? '1.00×' : times(t.ratioToBaseline),
    t.target === s.baseline ? '1.00×' : times(t.pairedRatioToBaseline),
    ms(t.p50Ms),
    ms(t.p99Ms),
    answers(t),
  ])
  const lines = [
    `### ${s.title}`,
    '',
    `${s.description} Policy: capacity ${int(s.limits.capacity)}, refill ${int(s.limits.refillPerSecond)}/s.`,
    '',
    table(
      [
        'Target',
        'Median req/s',
        'Range over rounds',
        '× ceiling',
        '× ceiling, per round',
        "× Sluice's answer, no limiter",
        '× same, per round',
        'p50 ms',
        'p99 ms',
        'Answers',
      ],
      [...rows, ...notMeasuredRows(s, 10)],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  ]
  const sluice = measured(s).find((t) => t.target === 'sluice')
  const peer = measured(s).find((t) => t.target === 'fastify-rate-limit')
  if (sluice !== undefined && peer !== undefined) {
    lines.push('', `Sluice ÷ @fastify/rate-limit (median req/s): **${times(sluice.medianRps / peer.medianRps)}**.`)
  }
  lines.push(...warnings(measured(s)))
  return lines.join('\n')
}

function accountingTable(scenarios: readonly ScenarioResult[]): string {
  const rows: string[][] = []
  for (const s of scenarios) {
    for (const t of measured(s)) {
      if (!TARGETS[t.target].limits) continue
      // Per 2xx means nothing where almost every answer is a 429.
      const perOk = s.expect === 'allowed' ? fixed(t.scriptCallsPerOk, 3) : '–'
      rows.push([s.title, t.label, perOk, fixed(t.scriptCallsPerResponse, 3), fixed(t.commandsPerResponse, 3), mix(t)])
    }
  }
  return table(
    [
      'Scenario',
      'Target',
      'Script calls per 2xx',
      'Script calls per response',
      'Redis commands per response',
      'Commands per response, by name',
    ],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'l'],
  )
}

function memorySection(result: BenchResult): string {
  const keys = result.memory[0]!.keys
  return [
    `${int(keys)} keys per library, each created by one request of a distinct client through the library's own store code, with its expiry.`,
    '',
    table(
      ['Library', 'Key (first of them)', 'Value', 'TTL set', 'Bytes per key', 'Floor: SET key value PX ttl', '× floor'],
      result.memory.map((m) => [
        m.label,
        `\`${m.exampleKey}\``,
        `\`${m.exampleValue}\``,
        `${Math.round(m.ttlMs / 1000)} s`,
        fixed(m.bytesPerKey, 1),
        fixed(m.floorBytesPerKey, 1),
        times(m.ratioToFloor),
      ]),
      ['l', 'l', 'l', 'r', 'r', 'r', 'r'],
    ),
  ].join('\n')
}

const PART_NAMES: Record<Goal['part'], string> = {
  cpu: 'CPU per request',
  throughput: 'Throughput',
  sweep: 'Latency sweep',
  memory: 'Memory',
}

function goalsSection(goals: readonly Goal[], result: BenchResult): string[] {
  const behind = [...new Set(goals.flatMap((g) => g.behind))]
  const { rounds } = result.config.sweep
  return [
    '## Targets',
    '',
    table(
      ['Measured by', 'Target', 'Goal', 'Measured', 'Verdict'],
      goals.map((g) => [PART_NAMES[g.part], g.goal, g.threshold, g.measured, verdict(g)]),
      ['l', 'l', 'r', 'r', 'l'],
    ),
    ...(behind.length > 0
      ? ['', `⚠ Not at the intended load: ${behind.join('; ')} could not keep up with the offered rate (see below).`]
      : []),
    ...(result.sweep !== undefined && rounds < SWEEP_MIN_ROUNDS
      ? ['', `⚠ The sweep ran ${count(rounds, 'round')}: its goals are judged on medians over at least ${SWEEP_MIN_ROUNDS}.`]
      : []),
    '',
    'The app figures move by several µs from run to run on this machine (see each range over rounds below), which is',
    'as much as some goals: [profile.md](profile.md) shows where a request’s time goes, measured with a profiler.',
  ]
}

/** A part's section: its heading, then its text and figures, or a line saying it did not run. */
function section(heading: string, ran: boolean, body: () => string[]): string[] {
  return [`## ${heading}`, '', ...(ran ? body() : ['Not measured in this run.'])]
}

function cpuSection(result: BenchResult): string[] {
  const { cpu } = result.config
  return section('CPU per request at a fixed load', result.cpu.length > 0, () => [
    `Each target is offered ${int(cpu.rate)} requests a second, evenly spaced (a scenario whose servers that rate would`,
    'saturate gets the share it states), and the CPU time its process and Redis used during the run is divided by the',
    'requests it answered: what a request costs an app and its Redis when neither is saturated. The medians over',
    'rounds; the range of the app figure over rounds shows how well it repeats. Latency is measured from when each',
    'request was due, so a target falling behind shows in its p99.',
    "The bold rows are what the others are compared with: a bare 200, and Sluice's own answer (its quota headers,",
    'or its 429 with the problem body) sent as constants with no limiter, which is the least Sluice can cost since',
    'it must send them. The last column is one response taken after each run: status, and bytes on the wire.',
    '',
    result.cpu.map(cpuScenarioSection).join('\n\n'),
  ])
}

function throughputSection(result: BenchResult): string[] {
  return section('Throughput and latency', result.throughput.length > 0, () => [
    "Median requests per second over the rounds; the slowest and the fastest round; each target's median over the",
    "ceiling's median (a bare 200 on the same framework, same scenario, same rounds: the figure the targets above",
    "use) and over the median of Sluice's own answer sent with no limiter (the most Sluice could reach, since it",
    'must send that answer); the median over rounds of the same ratios taken round by round (neighbouring runs',
    "share the machine's mood, so these move less with noise); and the medians over rounds of each run's p50 and",
    'p99 latency (autocannon measures whole milliseconds).',
    '',
    "autocannon runs a closed loop: each connection sends again only once it is answered, so a target's requests",
    'per second are its connections over its latency. A limiter that batches its Redis calls answers each request a',
    "little later. Sluice's default sends each batch as soon as the last one on its node is answered; the",
    '`batchIntervalMs: 1` row (at most one script call per cluster slot per millisecond, an opt-in cap on Redis CPU)',
    'trades throughput here for the CPU the fixed-load part measures.',
    '',
    result.throughput.map(throughputScenarioSection).join('\n\n'),
  ])
}

function accountingSection(result: BenchResult): string[] {
  const parts: string[] = []
  if (result.cpu.length > 0) parts.push('### At a fixed load', '', accountingTable(result.cpu))
  if (result.throughput.length > 0)
    parts.push(...(parts.length > 0 ? [''] : []), '### At full throughput', '', accountingTable(result.throughput))
  if (parts.length === 0) return []
  return [
    '## Redis work per request',
    '',
    "Redis's own count: `CONFIG RESETSTAT` before each run, `INFO commandstats` after it, summed over the rounds.",
    'Script calls are `EVALSHA` + `EVAL`, one per round trip that runs a script. Redis also counts the commands a',
    'script runs (`GET`, `SET`, `INCR`, `PTTL`, …), so "Redis commands" is all the work Redis did, not round trips.',
    "The benchmark's own commands (`FLUSHDB`, `CONFIG`, `INFO`) are left out. Sluice coalesces the checks that",
    'arrive in one event-loop turn into one script call, so it makes fewer calls the more requests arrive at once:',
    'compare the fixed load with full throughput.',
    '',
    ...parts,
  ]
}

function memoryPart(result: BenchResult): string[] {
  return section('Redis memory per idle key', result.memory.length > 0, () => [
    '`used_memory` from `INFO memory` (without `mem_clients_normal`: client buffers are not key memory) after the',
    'keys were created minus before, read once it stopped moving, divided by the number of keys; the least of three',
    'passes from an empty database, because what else a pass can leave behind only adds (a key table caught',
    "mid-rehash, the scripting engine's first-run buffers). The floor is the same key names holding the same integer",
    'as a plain `SET <key> <integer> PX <ttl>`, measured the same way: one number with an expiry and nothing else.',
    "Integers below 10,000 (a counter's first values) are objects Redis shares, so they cost nothing beyond the key;",
    'a timestamp-sized integer takes a small object of its own.',
    '',
    memorySection(result),
  ])
}

/** How each part loaded its targets. */
function loadLines(result: BenchResult): string[] {
  const { cpu, throughput } = result.config
  const warmup = (seconds: number): string => (seconds > 0 ? `, after ${seconds} s of unmeasured load per target` : '')
  const lines: string[] = []
  if (result.cpu.length > 0) {
    lines.push(
      `- CPU per request: ${int(cpu.rate)} req/s offered to each target (or the share a scenario states), ${cpu.seconds} s per run,`,
      `  ${count(cpu.rounds, 'round')}${warmup(cpu.warmupSeconds)}. The load is an open loop in the runner's process (undici, at`,
      `  most ${cpu.connections} connections): request i is sent at i / rate seconds whether or not earlier ones were answered,`,
      "  as wrk2 does. (autocannon's `overallRate` is not paced: each connection sends its share of a second back to",
      '  back when the second starts, so the server runs flat out for part of every second, batches as if saturated',
      "  and idles for the rest.) CPU time: the target's process from `/proc/<pid>/stat` (`utime` + `stime`, all its",
      '  threads, in 10 ms ticks), redis-server from `INFO cpu` (`used_cpu_sys` + `used_cpu_user`), each read before',
      '  the run and 100 ms after its last response.',
    )
  }
  if (result.throughput.length > 0) {
    lines.push(
      `- Throughput: autocannon in the runner's process, ${throughput.connections} connections, as fast as each target answers,`,
      `  ${throughput.seconds} s per run, ${count(throughput.rounds, 'round')}${warmup(throughput.warmupSeconds)}.`,
    )
  }
  return lines
}

/** docs/benchmarks.md: how the figures were made, then the figures. */
export function renderMarkdown(result: BenchResult, options: MarkdownOptions): string {
  const { machine } = result
  const minutes = (result.finishedAt.getTime() - result.startedAt.getTime()) / 60_000
  const packages = Object.entries(machine.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')
  const out = [
    '# Benchmarks',
    '',
    '<!-- Generated by packages/bench (`src/cli.ts --write`); edits by hand are lost on the next run. -->',
    '',
    'Sluice against no limiter and against its peers, in one run, on one machine, with the same route (`GET /`),',
    'the same Redis and the same load: what a request costs in CPU, in the app and in Redis, at a fixed load; how',
    'fast each answers when pushed; how latency and cost grow from a quiet server to a saturated one; and what an',
    'idle client costs Redis in memory. Figures from another machine, or',
    'another day, are not comparable with these: compare the ratios, and run it yourself.',
    '',
    ...(result.config.smoke
      ? ['> **Smoke run**: one short round to prove the harness works. These figures say nothing about speed.', '']
      : []),
    '## How these figures were made',
    '',
    `- Command (from the repository root): \`${options.command}\``,
    `- Date: ${result.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}, ${minutes.toFixed(1)} minutes`,
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}; redis-server ${machine.redis};` +
      ` 1-minute load average ${machine.loadAtStart.toFixed(2)} when the run began (other work on the machine shares its cores)`,
    `- Packages: ${packages}`,
    ...loadLines(result),
    "- Each target is a server in a Node process of its own; the load generator runs in the runner's process, so it",
    "  never shares an event loop with a server. All share the machine's cores with one redis-server (no persistence)",
    '  started for the run. Targets run interleaved, round-robin (ceiling, baseline, Sluice, peers, ceiling, …), so a',
    '  noisy moment hits all alike, and Redis is emptied (`FLUSHDB`) before every run.',
    '- Every limiter keys on the `x-api-key` header. Sluice gets a token bucket of capacity C refilled at R/s; the',
    '  fixed-window peers get the same long-run rate: C requests per ⌈C / R⌉ s. Every library otherwise runs with its defaults.',
    "- The baselines send Sluice's answer with no limiter: the headers (or the 429 and its body) that @sluice/fastify",
    '  answers in that scenario, taken from it when the baseline starts and sent as constants.',
    `- With ${machine.cores} cores for the load generator, the server and Redis, whatever a limiter makes Redis do is CPU the`,
    '  server and autocannon no longer get: throughput ratios come out lower than where Redis has cores of its own.',
    '',
    ...goalsSection(evaluateGoals(result), result),
    '',
    ...cpuSection(result),
    '',
    ...throughputSection(result),
    '',
    ...sweepSection(result),
    '',
    ...accountingSection(result),
    '',
    ...memoryPart(result),
    '',
  ]
  // A part that did not run leaves its blank lines behind: one is enough.
  return out.join('\n').replace(/\n{3,}/g, '\n\n')
}
