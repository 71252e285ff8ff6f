import { once } from 'node:events'
import { MissingBinaryError, parseOrExit } from '@sluice/harness'
import {
  compareReports,
  formatComparison,
  formatTable,
  progressLines,
  type Report,
  runSuite,
  SCENARIO_NAMES,
  writeHtmlReport,
} from '@sluice/loadtest'
import { DEMO_USAGE, parseDemoArgs } from './cli-args.js'
import { assertBinaries, type Cluster, type ClusterMode, startCluster } from './cluster.js'
import { curlExamples } from './curl-examples.js'
import { degradedClause } from './degraded-clause.js'
import { formatScraped, scrapeReplicas } from './metrics-scrape.js'
import { unsaturatedClause } from './unsaturated-clause.js'

/** `pnpm demo`: the cluster, the load test, the report, and a clean stop. */

const args = parseOrExit('sluice demo', DEMO_USAGE, parseDemoArgs)
// With --json, stdout carries the JSON object only.
const say = (line = ''): void => void (args.json ? process.stderr : process.stdout).write(`${line}\n`)

// A Redis of the user's own, instead of one started for the run.
const redisUrl = process.env.REDIS_URL || undefined

// First Ctrl-C: stop the load, then the cluster, cleanly. Second: leave now.
const interrupted = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted.signal.aborted) process.exit(130)
    say(`\n${signal}: stopping (again to force)`)
    interrupted.abort()
  })
}

async function cluster(mode: ClusterMode, gatewayPort: number | undefined): Promise<Cluster> {
  say(mode === 'shared' ? 'Starting the cluster' : 'Starting the same cluster without Redis, each replica on its own')
  return startCluster({
    mode,
    gatewayPort,
    redisUrl,
    capacity: args.capacity,
    refillPerSecond: args.refillPerSecond,
    keyMode: args.keyMode,
    frameworks: args.framework === 'mixed' ? ['fastify', 'express'] : [args.framework],
    redisCluster: args.redisCluster,
    onProgress: (line) => say(`  ✓ ${line}`),
  })
}

async function load(target: Cluster): Promise<Report[]> {
  say(`\nLoad test: ${SCENARIO_NAMES.length} scenarios × ${args.durationSeconds} s against ${target.gatewayUrl}`)
  return runSuite({
    gatewayUrl: target.gatewayUrl,
    scenarios: SCENARIO_NAMES,
    capacity: args.capacity,
    refillPerSecond: args.refillPerSecond,
    durationSeconds: args.durationSeconds,
    keyMode: args.keyMode,
    mode: target.mode,
    replicaUrls: target.replicas.map((r) => `http://127.0.0.1:${r.port}`),
    signal: interrupted.signal,
    ...progressLines(say),
  })
}

function verdict(reports: readonly Report[]): { pass: boolean; line: string } {
  const shared = reports.filter((r) => r.mode === 'shared')
  const pass = shared.length === SCENARIO_NAMES.length && shared.every((r) => r.verdict.pass)
  const failed = shared.filter((r) => !r.verdict.pass).map((r) => r.scenario)
  const replicas = Math.max(0, ...shared.map((r) => r.replicas.length))
  let line = pass
    ? `PASS: every client got what one token bucket allows (${args.capacity} at once, then ${args.refillPerSecond}/s), never more, although all ${replicas} replicas answered it. The limit is global.`
    : `FAIL: ${failed.length > 0 ? `${failed.join(', ')} did not hold` : 'the load test did not finish'}; see the tables above.`
  const inflight = shared.find((r) => r.scenario === 'inflight')
  if (pass && inflight !== undefined) {
    line += ` And no client had more than its in-flight limit of ${inflight.bound} requests in progress at once, merged from the ${inflight.replicas.length} replicas' logs.`
  }
  const degraded = degradedClause(shared)
  if (degraded !== undefined) line += `\n${degraded}`
  const unsaturated = unsaturatedClause(shared)
  if (pass && unsaturated !== undefined) line += `\n${unsaturated}`
  const factors = compareReports(reports).map((c) => c.factor)
  if (factors.length > 0) {
    line += `\nWithout the shared Redis the same cluster let a client through up to ${Math.max(...factors).toFixed(1)}× as often: each replica enforced the limit on its own.`
  }
  return { pass, line }
}

function explain(error: unknown): string {
  if (error instanceof MissingBinaryError) return error.message
  if (/Address already in use/.test(String(error))) return `port ${args.port} is taken; pass --port <another port>`
  return (error as Error).stack ?? String(error)
}

let shared: Cluster | undefined
try {
  assertBinaries({ mode: 'shared', redisUrl, redisCluster: args.redisCluster })
  const frameworks = args.framework === 'mixed' ? 'Fastify and Express' : args.framework === 'express' ? 'Express' : 'Fastify'
  say(`Sluice demo: 3 ${frameworks} replicas behind nginx, sharing one ${args.redisCluster ? 'Redis Cluster (3 masters)' : 'Redis'}.`)
  say(
    `Each client (by ${args.keyMode === 'ip' ? 'IP address' : 'API key'}) may send ${args.capacity} requests at once, then ${args.refillPerSecond} per second.\n`,
  )
  shared = await cluster('shared', args.port)
  const reports = interrupted.signal.aborted ? [] : await load(shared)
  const scraped = interrupted.signal.aborted ? undefined : await scrapeReplicas(shared.replicas.map((r) => r.port)).catch(() => undefined)
  if (args.compareLocal && !interrupted.signal.aborted) {
    say()
    const local = await cluster('local', undefined)
    try {
      reports.push(...(await load(local)))
    } finally {
      await local.stop()
    }
  }

  const htmlReport =
    reports.length > 0
      ? await writeHtmlReport(reports, 'reports', { notes: scraped === undefined ? [] : [formatScraped(scraped)] })
      : undefined
  const { pass, line } = verdict(reports)
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ pass, gatewayUrl: shared.gatewayUrl, reports, comparisons: compareReports(reports), metrics: scraped, htmlReport })}\n`,
    )
  } else {
    for (const r of reports) say(`\n${formatTable(r)}`)
    const comparison = formatComparison(compareReports(reports))
    if (comparison !== '') say(`\n${comparison}`)
    if (scraped !== undefined) say(`\n${formatScraped(scraped)}`)
    say(`\n${line}`)
  }
  if (htmlReport !== undefined) say(`HTML report: ${htmlReport}`)
  process.exitCode = interrupted.signal.aborted ? 130 : pass ? 0 : 1

  if (args.keep && !interrupted.signal.aborted) {
    say(`\nThe cluster stays up at ${shared.gatewayUrl} until Ctrl-C.\n${curlExamples(shared.gatewayUrl, shared.replicas, args.keyMode)}`)
    await once(interrupted.signal, 'abort')
  }
} catch (error) {
  process.exitCode = interrupted.signal.aborted ? 130 : 1
  if (!interrupted.signal.aborted) process.stderr.write(`sluice demo: ${explain(error)}\n`)
} finally {
  if (shared !== undefined) {
    say('Stopping the cluster…')
    await shared.stop()
    say('Stopped.')
  }
}
