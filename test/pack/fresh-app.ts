import { execFile } from 'node:child_process'
import { cp, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: the working tree the packages are packed from. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The packages a release publishes, by folder. */
export const PUBLISHED = ['core', 'fastify', 'express'] as const
export type Published = (typeof PUBLISHED)[number]

export const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')
export const ATTW = join(ROOT, 'node_modules/.bin/attw')
const FIXTURE = fileURLToPath(new URL('./app', import.meta.url))

export interface Output {
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end; a non-zero exit rejects with everything it printed. */
export function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Output> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve({ stdout, stderr })
      const exit = error.code ?? error.signal
      reject(
        Object.assign(new Error(`${[command, ...args].join(' ')} (in ${options.cwd}) exited ${exit}:\n${stdout}\n${stderr}`), { stdout }),
      )
    })
  })
}

export interface Tarball {
  readonly name: string
  readonly filename: string
  /** Paths inside the package, as pnpm packed them. */
  readonly files: readonly string[]
}

/** `pnpm pack`, as a release packs: its prepack builds what it ships, and `workspace:` ranges are rewritten. */
export async function pack(folder: Published, destination: string): Promise<Tarball> {
  const { stdout } = await run('pnpm', ['pack', '--json', '--pack-destination', destination], { cwd: join(ROOT, 'packages', folder) })
  const packed = JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }
  return { name: packed.name, filename: packed.filename, files: packed.files.map((f) => f.path) }
}

/**
 * A user's app in `dir` (outside the workspace): the fixture's sources, the tarballs and the
 * frameworks as dependencies, installed with npm as most users would. Optional peers
 * (prom-client) are left out. The third-party versions are the workspace's own ranges, so npm's
 * cache usually holds them.
 */
export async function installApp(dir: string, tarballs: readonly Tarball[]): Promise<void> {
  await cp(FIXTURE, dir, { recursive: true })
  const workspace = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
  const thirdParty = ['fastify', 'express', 'ioredis', '@types/express', '@types/node']
  const manifest = {
    name: 'sluice-pack-app',
    private: true,
    type: 'module',
    dependencies: {
      ...Object.fromEntries(tarballs.map((t) => [t.name, `file:${t.filename}`])),
      ...Object.fromEntries(thirdParty.map((name) => [name, workspace.devDependencies[name]])),
    },
    // The adapters depend on @sluice/core by version: take it from its tarball, never the registry.
    overrides: { '@sluice/core': '$@sluice/core' },
  }
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir })
}
