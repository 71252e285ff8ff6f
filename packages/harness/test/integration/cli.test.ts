import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))

/** Run `parseOrExit` in a process of its own (it ends the process), with `parse` as given. */
async function parseOrExit(argv: readonly string[], parse: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `import { parseOrExit, UsageError } from ${JSON.stringify(CLI)}
const parsed = parseOrExit('cmd', 'Usage: cmd [--help]', ${parse}, process.argv.slice(1))
console.log(JSON.stringify(parsed))`
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...argv])
    return { code: 0, stdout, stderr }
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string }
    return { code, stdout, stderr }
  }
}

describe('parseOrExit', () => {
  it('returns what was parsed', async () => {
    expect(await parseOrExit(['--fast'], `(argv) => ({ help: false, argv })`)).toEqual({
      code: 0,
      stdout: `${JSON.stringify({ help: false, argv: ['--fast'] })}\n`,
      stderr: '',
    })
  })

  it('prints the usage and exits 0 on --help', async () => {
    expect(await parseOrExit([], `() => ({ help: true })`)).toEqual({ code: 0, stdout: 'Usage: cmd [--help]\n', stderr: '' })
  })

  it('prints the mistake and the usage and exits 2 on a UsageError', async () => {
    expect(await parseOrExit([], `() => { throw new UsageError('--port: "x" is not valid') }`)).toEqual({
      code: 2,
      stdout: '',
      stderr: 'cmd: --port: "x" is not valid\n\nUsage: cmd [--help]\n',
    })
  })
})
