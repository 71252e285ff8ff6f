import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The workspace root's Biome (a devDependency of the root package, not of the bench). */
const BIOME = resolve(dirname(fileURLToPath(import.meta.url)), '../../../node_modules/@biomejs/biome/bin/biome')

/**
 * Format what the bench wrote with the repository's own Biome, as `pnpm lint` expects it: the
 * report's tables are padded by the bench, but Biome's Markdown formatting is Biome's to say,
 * and a report that fails the lint until someone formats it by hand is a step forgotten. Returns
 * what to tell the user: nothing when it formatted, the reason when it could not.
 */
export function formatWithBiome(files: readonly string[], biome: string = BIOME): string | undefined {
  if (files.length === 0) return undefined
  if (!existsSync(biome)) return `not formatted: Biome not found at ${biome} (run \`pnpm biome check --write ${files.join(' ')}\`)`
  // From the report's own folder: Biome finds the configuration that governs it (the repository's
  // biome.json for docs/), and refuses a path outside the folder it was started in.
  const run = spawnSync(process.execPath, [biome, 'format', '--write', ...files.map((f) => resolve(f))], {
    cwd: dirname(resolve(files[0]!)),
    encoding: 'utf8',
  })
  if (run.status === 0) return undefined
  const why = `${run.stderr ?? ''}${run.stdout ?? ''}`.trim().split('\n').slice(-3).join(' ')
  return `not formatted: Biome exited with ${run.status ?? run.signal}${why === '' ? '' : `: ${why}`}`
}
