import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const HINTS: Record<string, string> = {
  'redis-server': 'install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)',
  'redis-cli': 'install it with `apt-get install -y redis-tools` (Debian/Ubuntu) or `brew install redis` (macOS)',
  nginx: 'install it with `apt-get install -y nginx-light` (Debian/Ubuntu) or `brew install nginx` (macOS)',
}

export class MissingBinaryError extends Error {
  readonly binary: string
  constructor(binary: string) {
    super(`${binary} was not found on PATH: ${HINTS[binary] ?? 'install it and try again'}`)
    this.name = 'MissingBinaryError'
    this.binary = binary
  }
}

/** The absolute path of an executable, looked up on PATH (and the sbin folders nginx lives in). */
export function findBinary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin']
  for (const dir of dirs) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  throw new MissingBinaryError(name)
}
