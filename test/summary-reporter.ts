import { appendFileSync } from 'node:fs'
import type { Reporter, SerializedError, TestModule } from 'vitest/node'

/**
 * Ends the run with the plain line `N passed, N failed` (and skipped) that CI reads, counting
 * every test case of every project. With SLUICE_SUMMARY_FILE set (.ci/run sets it, and sums
 * every stage into the one line it ends with), the counts are appended to that file instead.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    let passed = 0
    // An error outside any test (a crashed worker, a bad config) fails the run too.
    let failed = unhandledErrors.length
    let skipped = 0
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') failed++
        else skipped++
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++
    }
    const file = process.env.SLUICE_SUMMARY_FILE
    if (file) appendFileSync(file, `${passed} ${failed} ${skipped}\n`)
    else process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}
