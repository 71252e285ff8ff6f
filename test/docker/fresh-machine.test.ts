import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyCheckout } from './checkout.js'
import { firstLines } from './readme.js'
import { type Outcome, sh, tail } from './shell.js'

/**
 * The README's first two lines on a fresh machine: a container of the image the Dockerfile builds
 * from, which has Node and nothing else (no redis-server, nginx, Chromium or faketime, no pnpm).
 * Each line must set up what it needs itself and end in the demo's PASS, or in every test passing
 * with none skipped.
 *
 * Docker's default bridge network, not the host's: the demo's gateway takes port 8080, which on
 * the host may be a user's own compose stack.
 */

const IMAGE = 'node:20-bookworm-slim'
const lines = firstLines()
const containers: string[] = []
let checkout: string

beforeAll(async () => {
  checkout = await copyCheckout('sluice-fresh-')
}, 120_000)

afterAll(async () => {
  for (const name of containers) await sh(`docker rm --force ${name}`)
  if (checkout !== undefined) await rm(checkout, { recursive: true, force: true })
}, 60_000)

/** What failed inside the container (vitest's FAIL lines), then the end of its output. */
function failures(run: Outcome): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes in the container's output
  const plain = run.output.replace(/\x1b\[[0-9;]*m/g, '')
  const failed = [...new Set(plain.split('\n').filter((l) => /^\s*FAIL\s/.test(l)))]
  return `${failed.join('\n')}\n${tail({ ...run, output: plain }, 40)}`
}

async function inFreshContainer(line: string, timeoutMs: number) {
  const name = `sluice-fresh-${randomBytes(3).toString('hex')}`
  containers.push(name)
  const script = `cp -a /src /app && cd /app && ${line}`
  return sh(`docker run --rm --name ${name} -v "${checkout}:/src:ro" ${IMAGE} bash -lc '${script.replace(/'/g, "'\\''")}'`, { timeoutMs })
}

describe("the README's first two lines, each in a fresh container", () => {
  it('are the demo and the tests', () => {
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/ demo$/)
    expect(lines[1]).toMatch(/ test$/)
  })

  it('line 1 installs what the demo starts, saying so, and ends in its PASS', async () => {
    const run = await inFreshContainer(lines[0]!, 900_000)
    expect(run.code, tail(run, 60)).toBe(0)
    expect(run.output).toMatch(/^sluice: installing with apt-get: .*redis-server.*nginx-light/m)
    expect(run.output, tail(run, 60)).toMatch(/^PASS: /m)
  }, 900_000)

  it('line 2 installs what the tests start, saying so, and ends with every test passed, none skipped', async () => {
    const run = await inFreshContainer(lines[1]!, 1_500_000)
    expect(run.code, failures(run)).toBe(0)
    expect(run.output).toMatch(/^sluice: installing with apt-get: .*chromium.*faketime/m)
    const summary = /^(\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(run.output)
    expect(summary, failures(run)).not.toBeNull()
    const [, passed, failed, skipped] = summary!.map(Number)
    expect({ failed, skipped }, failures(run)).toEqual({ failed: 0, skipped: 0 })
    expect(passed).toBeGreaterThan(0)
  }, 1_500_000)
})
