#!/usr/bin/env node
import { parseOrExit } from '@sluice/harness'
import { parseCli, USAGE } from './cli-options.js'
import { compareReports } from './compare.js'
import { runSuite } from './suite.js'
import { formatTable, progressLines } from './table.js'
import { writeHtmlReport } from './write-report.js'

/** The load test on its own, against a gateway that is already running (docker-compose's loadtest service). */

const o = parseOrExit('sluice-loadtest', USAGE, (argv) => parseCli(argv))
// With --json, stdout carries the JSON object only.
const say = (line: string): void => void (o.json ? process.stderr : process.stdout).write(`${line}\n`)

const controller = new AbortController()
process.once('SIGINT', () => controller.abort())
process.once('SIGTERM', () => controller.abort())

try {
  say(`Load test against ${o.url}: capacity ${o.capacity}, refill ${o.refillPerSecond}/s, keyed by ${o.keyMode}`)
  const reports = await runSuite({
    gatewayUrl: o.url,
    scenarios: o.scenarios,
    capacity: o.capacity,
    refillPerSecond: o.refillPerSecond,
    durationSeconds: o.durationSeconds,
    keyMode: o.keyMode,
    replicaUrls: o.replicaUrls,
    signal: controller.signal,
    ...progressLines(say),
  })
  // The verdict stands without the page: a read-only mount must not hide the result.
  const htmlReport = await writeHtmlReport(reports, o.reportDir).catch((error: Error) => {
    process.stderr.write(`sluice-loadtest: could not write the HTML report: ${error.message}\n`)
    return undefined
  })
  const pass = reports.length > 0 && reports.every((r) => r.verdict.pass)
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ pass, reports, comparisons: compareReports(reports), htmlReport })}\n`)
  } else {
    for (const r of reports) say(`\n${formatTable(r)}`)
    if (htmlReport !== undefined) say(`\nHTML report: ${htmlReport}`)
  }
  process.exitCode = pass ? 0 : 1
} catch (error) {
  process.stderr.write(`sluice-loadtest: ${(error as Error).message}\n`)
  process.exitCode = 1
}
