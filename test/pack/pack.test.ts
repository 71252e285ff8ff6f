import { existsSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { type RedisServer, startRedis } from '@sluice/harness'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Answer } from './app/src/env.js'
import { ATTW, installApp, type Output, PUBLISHED, type Published, pack, ROOT, run, type Tarball, TSC } from './fresh-app.js'
import { readmeSnippets } from './readme-snippets.js'

/**
 * What `npm install @sluice/fastify` gives a user: the three packages packed from this working
 * tree as a release packs them, installed with npm into a fresh app outside the workspace, and
 * used there as users would, from ES modules, CommonJS and TypeScript.
 */

// Every name an entry exports is a semver promise: a change here is a decision, not an accident.
const PUBLIC_EXPORTS = {
  '@sluice/core': [
    'ErrorCodes',
    'MemoryStore',
    'RedisStore',
    'SluiceDeniedError',
    'SluiceError',
    'SluiceOptionError',
    'SluiceRequestError',
    'WarningCodes',
  ],
  '@sluice/core/adapter': [
    'PROBLEM_CONTENT_TYPE',
    'createLimiter',
    'onResponseEnd',
    'permissiveTrustProxyMessage',
    'processWarningLogger',
    'requestView',
    'trustsEveryone',
    'warn',
  ],
  '@sluice/core/metrics': ['createMetrics'],
  '@sluice/fastify': ['HOOKS', 'default', 'rateLimit'],
  '@sluice/express': ['default', 'rateLimit'],
}
const ENTRY_POINTS: Record<Published, string[]> = { core: ['.', './adapter', './metrics'], fastify: ['.'], express: ['.'] }
const READMES = ['README.md', ...PUBLISHED.map((p) => `packages/${p}/README.md`)]
/** The pages the README links to: their snippets are compiled too (a page may have none). */
const DOCS_PAGES = [
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]
const QUOTA_EXCEEDED = 'https://iana.org/assignments/http-problem-types#quota-exceeded'

let work: string
let app: string
let redis: RedisServer
const tarballs = {} as Record<Published, Tarball>
let nodeNextBuild: Output | Error
let memoryOnlyBuild: Output | Error

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-pack-'))
  expect(relative(ROOT, work).startsWith('..')).toBe(true)
  // Packing builds from scratch: nothing left in dist by an earlier build may ship.
  await mkdir(join(ROOT, 'packages/core/dist'), { recursive: true })
  await writeFile(join(ROOT, 'packages/core/dist/stale.js'), 'export {}\n')
  for (const folder of PUBLISHED) tarballs[folder] = await pack(folder, join(work, 'tarballs'))
  app = join(work, 'app')
  ;[redis] = await Promise.all([startRedis(), installApp(app, Object.values(tarballs))])
  // An app without Redis has no ioredis: hide the app's copy while that program compiles.
  const ioredis = join(app, 'node_modules/ioredis')
  await rename(ioredis, `${ioredis}.hidden`)
  memoryOnlyBuild = await tsc('tsconfig.memory.json')
    .catch((error: Error) => error)
    .finally(() => rename(`${ioredis}.hidden`, ioredis))
  // The ES module apps below run what tsc emits from the fixture, as a TypeScript user's would.
  nodeNextBuild = await tsc('tsconfig.nodenext.json').catch((error: Error) => error)
}, 600_000)

afterAll(async () => {
  await redis?.stop()
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

function tsc(config: string): Promise<Output> {
  return run(process.execPath, [TSC, '-p', config, '--pretty', 'false'], { cwd: app })
}

async function published(folder: Published): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(app, 'node_modules', tarballs[folder].name, 'package.json'), 'utf8'))
}

async function runApp(script: string, prefix: string): Promise<Record<string, unknown>> {
  const env = { ...process.env, REDIS_URL: redis.url, SLUICE_PREFIX: prefix }
  const { stdout } = await run(process.execPath, [script], { cwd: app, env })
  return JSON.parse(stdout.trim().split('\n').at(-1)!)
}

describe('the tarballs', () => {
  it.each(PUBLISHED)('%s ships its build, README, LICENSE and CHANGELOG, and no tests, caches or stale files', (folder) => {
    const files = tarballs[folder].files
    expect(files).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']),
    )
    expect(files.filter((f) => /tsbuildinfo|(^|\/)test\/|\.test(-d)?\.ts$|internal|stale/.test(f))).toEqual([])
  })

  it.each(PUBLISHED)('%s publishes a package.json with no workspace-only parts', async (folder) => {
    const manifest = await published(folder)
    const text = JSON.stringify(manifest)
    expect(text).not.toContain('sluice:source')
    expect(text).not.toContain('workspace:')
    expect(manifest.engines).toEqual({ node: '>=20.19' })
    const exportsMap = manifest.exports as Record<string, Record<string, string>>
    expect(Object.keys(exportsMap)).toEqual(ENTRY_POINTS[folder])
    for (const conditions of Object.values(exportsMap)) expect(Object.keys(conditions)).toEqual(['types', 'default'])
  })

  it.each(PUBLISHED)('%s says where its source, docs and bug tracker are (repository, homepage, bugs)', async (folder) => {
    const manifest = await published(folder)
    const repository = manifest.repository as { type: string; url: string; directory: string }
    expect(repository).toMatchObject({ type: 'git', directory: `packages/${folder}` })
    expect(repository.url).toMatch(/^git\+https:\/\/.+\.git$/)
    const base = repository.url.slice('git+'.length, -'.git'.length)
    expect(manifest.homepage).toBe(`${base}/tree/main/packages/${folder}#readme`)
    expect(manifest.bugs).toEqual({ url: `${base}/issues` })
  })

  it('install one @sluice/core, without the optional prom-client', () => {
    expect(existsSync(join(app, 'node_modules/@sluice/core'))).toBe(true)
    for (const adapter of ['fastify', 'express'])
      expect(existsSync(join(app, `node_modules/@sluice/${adapter}/node_modules/@sluice/core`))).toBe(false)
    expect(existsSync(join(app, 'node_modules/prom-client'))).toBe(false)
  })

  it.each(PUBLISHED)('%s: publint finds nothing', async (folder) => {
    const tarball = await readFile(tarballs[folder].filename)
    const { messages, pkg } = await publint({ pack: { tarball: tarball.buffer as ArrayBuffer }, strict: true })
    expect(messages.map((m) => formatMessage(m, pkg) ?? m.code)).toEqual([])
  })

  it.each(PUBLISHED)('%s: Are the Types Wrong finds only "CJS resolves to ESM" (require(esm), Node ≥ 20.19)', async (folder) => {
    const { stdout } = await run(ATTW, ['--no-definitely-typed', '--format', 'json', tarballs[folder].filename], { cwd: work }).catch(
      (error: Error & Output) => error,
    )
    const { analysis } = JSON.parse(stdout) as { analysis: { entrypoints: object; problems: { kind: string }[] } }
    expect(Object.keys(analysis.entrypoints)).toEqual(ENTRY_POINTS[folder])
    expect(new Set(analysis.problems.map((p) => p.kind))).toEqual(new Set(['CJSResolvesToESM']))
  })
})

describe('a fresh app', () => {
  it('type-checks under NodeNext, skipLibCheck off, without prom-client', () => {
    if (nodeNextBuild instanceof Error) throw nodeNextBuild
  })

  it('type-checks under Bundler resolution, skipLibCheck off, without prom-client', async () => {
    await tsc('tsconfig.bundler.json')
  })

  it('type-checks without ioredis when it keeps its buckets in memory', () => {
    if (memoryOnlyBuild instanceof Error) throw memoryOnlyBuild
  })

  it('limits requests on Redis with Fastify, from an ES module', async () => {
    const prefix = `pack-fastify-${process.pid}:`
    const { answers, exempt, stats } = await runApp('dist/fastify-app.js', prefix)
    expectLimited(answers)
    expect(exempt).toEqual({ status: 200, limited: false })
    expect(stats).toMatchObject({ storeAnswers: 3, storeErrors: 0 })
    expect(await redis.client().keys(`${prefix}*`)).toHaveLength(1)
  })

  it('limits requests on Redis with Express, from an ES module', async () => {
    const prefix = `pack-express-${process.pid}:`
    const { answers, stats } = await runApp('dist/express-app.js', prefix)
    expectLimited(answers)
    expect(stats).toMatchObject({ storeAnswers: 3, storeErrors: 0 })
    expect(await redis.client().keys(`${prefix}*`)).toHaveLength(1)
  })

  it('limits a bare node:http server through @sluice/core/adapter', async () => {
    expect(await runApp('dist/http-adapter.js', 'unused:')).toEqual({ statuses: [200, 429], optionError: 'capacity' })
  })

  it('requires both adapters from CommonJS, sharing one core with the app', async () => {
    expect(await runApp('dist/require-adapters.cjs', 'unused:')).toEqual({
      fastify: { default: 'function', sameAsNamed: true },
      statuses: [200, 429],
      optionError: 'capacity',
    })
  })

  it('sees exactly the public names on each entry, and cannot reach the rest', async () => {
    const { exported, unreachable } = await runApp('dist/entries.js', 'unused:')
    expect(exported).toEqual(PUBLIC_EXPORTS)
    expect(unreachable).toEqual({
      '@sluice/core/internal': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
      '@sluice/core/dist/limiter.js': 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    })
  })
})

describe("the READMEs' and docs pages' TypeScript, compiled against the installed packages", () => {
  beforeAll(async () => {
    // Snippets may use the optional prom-client, which the app itself must do without.
    const promClient = await realpath(join(ROOT, 'packages/core/node_modules/prom-client'))
    await symlink(promClient, join(app, 'snippets/prom-client'), 'dir')
    // And the Redis clients other than ioredis, found by the snippets alone (in their own
    // node_modules, whose links TypeScript follows to the clients' own dependencies).
    await mkdir(join(app, 'snippets/node_modules'))
    for (const client of ['redis', 'iovalkey']) {
      await symlink(await realpath(join(ROOT, 'packages/core/node_modules', client)), join(app, 'snippets/node_modules', client), 'dir')
    }
    // And @opentelemetry/api, for the OpenTelemetry recipe (a devDependency of @sluice/core only).
    const otelApi = await realpath(join(ROOT, 'packages/core/node_modules/@opentelemetry/api'))
    await symlink(otelApi, join(app, 'snippets/opentelemetry-api'), 'dir')
    for (const readme of [...READMES, ...DOCS_PAGES]) {
      const snippets = readmeSnippets(await readFile(join(ROOT, readme), 'utf8'))
      if (READMES.includes(readme)) expect(snippets.length, `${readme} has no \`\`\`ts block`).toBeGreaterThan(0)
      for (const snippet of snippets) {
        await writeFile(join(app, 'snippets', `${readme.replaceAll('/', '_')}-line-${snippet.line}.ts`), snippet.module)
      }
    }
  })

  it.each(['nodenext', 'bundler'])('compile under %s (error lines are README lines)', async (mode) => {
    await tsc(`snippets/tsconfig.${mode}.json`)
  })
})

/** Capacity 2, next to no refill: two admitted, then a 429 that says why and when to retry. */
function expectLimited(answers: unknown): void {
  const [first, second, third] = answers as Answer[]
  expect([first?.status, second?.status, third?.status]).toEqual([200, 200, 429])
  expect([first?.remaining, second?.remaining, third?.remaining]).toEqual(['1', '0', '0'])
  expect(third).toMatchObject({ limit: '2', contentType: expect.stringMatching(/^application\/problem\+json/) })
  expect(Number(third?.retryAfter)).toBeGreaterThanOrEqual(1)
  expect(third?.body).toMatchObject({ type: QUOTA_EXCEEDED, 'violated-policies': ['pack'] })
}
