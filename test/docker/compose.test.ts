import { appendFile, chown, cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCENARIO_NAMES } from '../../packages/loadtest/src/index.js'
import { copyCheckout } from './checkout.js'
import { FORGED, forgedForwardedFor, oneClient } from './gateway.js'
import { composeVariants, scope } from './readme.js'
import { tail } from './shell.js'
import { config, inStack, leftovers, newStack, redisKeys, type Stack, services } from './stack.js'

/**
 * The README's Docker commands, run for real on a copy of the working tree, in the order it gives
 * them: the stack comes up healthy, one client through the gateway gets what one token bucket
 * allows from all three replicas, a forged X-Forwarded-For opens no bucket, the load-test service
 * passes and leaves its report on the host, and `down` leaves nothing. The Redis Cluster variant
 * runs twice in a row. The copy has one workspace package more than the repository, which the
 * replica imports: the image must build and ship it with no edit to the Dockerfile.
 */

const variants = composeVariants()
const NEW_PACKAGE = 'packages/zz-docker-probe'
const PROBE = '@sluice/docker-probe'
// Not uid 1000 (the image's `node` user), nor root: who owns the checkout when CI runs as root.
const OTHER_OWNER = { uid: 4321, gid: 4321 }

let stack: Stack
let owner: { uid: number; gid: number }

beforeAll(async () => {
  const checkout = await copyCheckout('sluice-compose-')
  await addImportedPackage(checkout)
  stack = await newStack(checkout)
  const lock = await inStack(stack, 'pnpm install --lockfile-only --offline')
  expect(lock.code, tail(lock)).toBe(0)
  expect(await readFile(join(checkout, 'pnpm-lock.yaml'), 'utf8')).toContain(`${NEW_PACKAGE}:`)
  if (process.getuid?.() === 0) await chownTree(checkout, OTHER_OWNER)
  owner = { uid: (await stat(checkout)).uid, gid: (await stat(checkout)).gid }
}, 120_000)

afterAll(async () => {
  if (stack === undefined) return
  for (const v of variants) await inStack(stack, `${v.down} --volumes --remove-orphans`)
  await inStack(stack, `docker image rm --force ${stack.image}`)
  await rm(stack.cwd, { recursive: true, force: true })
}, 300_000)

async function editJson(path: string, edit: (json: Record<string, unknown>) => void): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
  edit(json)
  await writeFile(path, `${JSON.stringify(json, null, 2)}\n`)
}

/** A new workspace package, built like the others, that the demo depends on and the replica imports. */
async function addImportedPackage(checkout: string): Promise<void> {
  const dir = join(checkout, NEW_PACKAGE)
  await mkdir(join(dir, 'src'), { recursive: true })
  const exports = { '.': { types: './dist/index.d.ts', import: './dist/index.js' } }
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: PROBE, version: '0.0.0', private: true, type: 'module', exports }))
  await writeFile(join(dir, 'src/index.ts'), "export const probe = 'shipped'\n")
  await cp(join(checkout, 'packages/harness/tsconfig.build.json'), join(dir, 'tsconfig.build.json'))
  const demo = join(checkout, 'packages/demo')
  await editJson(join(demo, 'package.json'), (p) => {
    ;(p.dependencies as Record<string, string>)[PROBE] = 'workspace:*'
  })
  await editJson(join(demo, 'tsconfig.build.json'), (t) => {
    ;(t.references as { path: string }[]).push({ path: `../${basename(NEW_PACKAGE)}/tsconfig.build.json` })
  })
  // A replica that comes up healthy has loaded it.
  await appendFile(join(demo, 'src/replica.ts'), `\nimport '${PROBE}'\n`)
}

async function chownTree(dir: string, to: { uid: number; gid: number }): Promise<void> {
  await chown(dir, to.uid, to.gid)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await chownTree(path, to)
    else await chown(path, to.uid, to.gid)
  }
}

describe("the README's Docker commands", () => {
  it('stop what they start: each `down` names the files of its `up` and the profiles of its `run`', () => {
    expect(variants.map((v) => v.files)).toEqual([[], ['docker-compose.yml', 'docker/compose.cluster.yml']])
    for (const v of variants) {
      expect(scope(v.down).files).toEqual(scope(v.up).files)
      expect(scope(v.run).files).toEqual(scope(v.up).files)
      expect(scope(v.down).profiles).toEqual(scope(v.run).profiles)
    }
  })

  it('build without Docker Hub: the Dockerfile has no `# syntax=` line, which pulls a frontend image first', async () => {
    const dockerfile = await readFile(join(stack.cwd, 'docker/Dockerfile'), 'utf8')
    // Parser directives are comments before the first instruction.
    const header = dockerfile.slice(0, dockerfile.search(/^\s*[A-Z]+\s/m))
    expect(header).not.toMatch(/^#\s*syntax\s*=/im)
  })
})

for (const variant of variants) {
  const cluster = variant.files.length > 0
  const name = cluster ? 'the Redis Cluster variant' : 'one Redis'

  describe(name, () => {
    for (const round of cluster ? [1, 2] : [1]) {
      describe(`round ${round}`, () => {
        it('`up` brings every service up, healthy', async () => {
          const up = await inStack(stack, variant.up, 900_000)
          expect(up.code, tail(up)).toBe(0)
          const states = await services(stack, variant.files)
          expect(states.length).toBeGreaterThanOrEqual(cluster ? 9 : 5)
          for (const s of states) {
            if (s.Service === 'redis-cluster-init') expect([s.State, s.ExitCode], s.Service).toEqual(['exited', 0])
            else expect([s.State, s.Health], s.Service).toEqual(['running', 'healthy'])
          }
        }, 900_000)

        if (round === 1) {
          it('builds the image once, with pnpm from npm at the packageManager version, and a new package needs no Dockerfile edit', async () => {
            const services = await config(stack, variant.files)
            const built = Object.keys(services).filter((s) => services[s]!.build !== undefined)
            expect(built).toEqual(['replica-1'])
            for (const s of ['replica-2', 'replica-3', 'loadtest']) {
              expect(services[s]).toMatchObject({ image: stack.image, pull_policy: 'never' })
            }
            const { packageManager } = JSON.parse(await readFile(join(stack.cwd, 'package.json'), 'utf8')) as { packageManager: string }
            const probe = await inStack(
              stack,
              `docker run --rm --entrypoint sh ${stack.image} -c 'readlink -f "$(command -v pnpm)"; pnpm --version; cat ${NEW_PACKAGE}/dist/index.js'`,
            )
            expect(probe.code, tail(probe)).toBe(0)
            const [pnpmPath, version] = probe.output.split('\n')
            // npm's global install, not a corepack shim.
            expect(pnpmPath).toMatch(/\/node_modules\/pnpm\//)
            expect(`pnpm@${version}`).toBe(packageManager)
            expect(probe.output).toContain("probe = 'shipped'")
          }, 60_000)
        }

        it('one client through the gateway: at most C + R·t + its degraded admissions, at least its floor, 429s wherever more was offered', async () => {
          const env = (await config(stack, variant.files))['replica-1']!.environment!
          const capacity = Number(env.RATE_CAPACITY)
          const refill = Number(env.RATE_REFILL_PER_SECOND)
          const report = await oneClient(stack.port, capacity, refill, 6)
          const [client] = report.clients
          // Degraded answers (a replica's local fallback bucket: Redis slower than its time budget) explain an overshoot.
          const summary = JSON.stringify({
            client,
            elapsed: report.elapsedSeconds,
            degraded: report.totals.degraded,
            replicas: report.replicas,
          })
          expect(report.totals.errors, summary).toBe(0)
          // Redis's own admissions hold C + R·t; each local one took nothing from it and adds one.
          expect(client!.admitted - client!.degradedAdmitted, summary).toBeLessThanOrEqual(capacity + refill * report.elapsedSeconds)
          expect(client!.admitted, summary).toBeLessThanOrEqual(client!.bound)
          // The full bucket and what refilled between its first and last shared denial (the report's floor).
          expect(client!.admitted, summary).toBeGreaterThanOrEqual(client!.floor)
          expect(report.replicas.map((r) => r.id)).toEqual(['replica-1', 'replica-2', 'replica-3'])
          // A replica answering more than the client's whole bound must have denied some.
          for (const r of report.replicas) if (r.admitted + r.limited > client!.bound) expect(r.limited, summary).toBeGreaterThan(0)
        }, 60_000)

        it('a forged X-Forwarded-For opens no bucket', async () => {
          const env = (await config(stack, variant.files))['replica-1']!.environment!
          const capacity = Number(env.RATE_CAPACITY)
          const refill = Number(env.RATE_REFILL_PER_SECOND)
          const { answers, seconds } = await forgedForwardedFor(stack.port)
          expect(answers.filter((a) => a.status !== 200 && a.status !== 429)).toEqual([])
          // Each forged address would be a full bucket of its own, all 200 admitted; the host's one
          // bucket admits at most C + R·t, plus one for each answer from a local fallback bucket.
          const admitted = answers.filter((a) => a.status === 200)
          const local = admitted.filter((a) => a.degraded || (Number.isFinite(a.limit) && a.limit !== capacity)).length
          expect(admitted.length - local).toBeLessThanOrEqual(capacity + refill * seconds)
          const keys = await redisKeys(stack, variant.files)
          expect(keys.filter((k) => FORGED.some((address) => k.includes(`{ip:${address}}`)))).toEqual([])
        }, 60_000)

        it("the load-test service passes every scenario and leaves its report in ./reports, owned by the checkout's owner", async () => {
          const reports = join(stack.cwd, 'reports')
          const before = new Set(await readdir(reports).catch(() => []))
          const run = await inStack(stack, variant.run, 300_000)
          expect(run.code, tail(run, 80)).toBe(0)
          expect(run.output.match(/^\s*PASS: /gm)?.length, tail(run, 80)).toBe(SCENARIO_NAMES.length)
          expect(run.output).not.toMatch(/FAIL/)
          const written = /HTML report: (\S+)/.exec(run.output)?.[1]
          expect(written, tail(run)).toBeDefined()
          const file = join(reports, basename(written!))
          expect(before.has(basename(file))).toBe(false)
          for (const path of [reports, file]) {
            const s = await stat(path)
            expect({ path, uid: s.uid, gid: s.gid }).toEqual({ path, ...owner })
          }
          expect(await readFile(file, 'utf8')).toContain('<svg')
          await rm(file)
        }, 300_000)
      })
    }

    it('`down` leaves no container and no network', async () => {
      const down = await inStack(stack, variant.down, 180_000)
      expect(down.code, tail(down)).toBe(0)
      expect(await leftovers(stack)).toEqual([])
    }, 180_000)
  })
}
