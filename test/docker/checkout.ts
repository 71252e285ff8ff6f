import { execFileSync } from 'node:child_process'
import { cp, lstat, mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * A new folder holding the working tree as git sees it: tracked and new files, nothing ignored,
 * so no node_modules, dist or reports. What a clean clone holds, plus the uncommitted changes
 * under test.
 */
export async function copyCheckout(prefix: string): Promise<string> {
  const into = await mkdtemp(join(tmpdir(), prefix))
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '')
  for (const file of files) {
    // Listed but deleted in the working tree: a clone of the change would not have it.
    const exists = await lstat(join(ROOT, file)).then(
      () => true,
      () => false,
    )
    if (!exists) continue
    await mkdir(dirname(join(into, file)), { recursive: true })
    await cp(join(ROOT, file), join(into, file), { verbatimSymlinks: true, preserveTimestamps: true })
  }
  return into
}
