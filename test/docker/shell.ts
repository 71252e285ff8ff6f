import { spawn } from 'node:child_process'

export interface Outcome {
  /** The exit code; -1 when the command was killed for taking too long. */
  readonly code: number
  /** stdout and stderr interleaved, as a terminal would show them. */
  readonly output: string
}

export interface ShellOptions {
  readonly cwd?: string
  readonly env?: NodeJS.ProcessEnv
  readonly timeoutMs?: number
}

/** Run a command line through `sh -c`, as a user would type it. Resolves whatever the exit code. */
export function sh(command: string, options: ShellOptions = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const append = (chunk: Buffer): void => {
      output += chunk.toString()
    }
    child.stdout.on('data', append)
    child.stderr.on('data', append)
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            output += `\n[killed after ${options.timeoutMs} ms]`
            child.kill('SIGTERM')
          }, options.timeoutMs)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, output })
    })
  })
}

/** The last lines of a command's output, for an assertion message. */
export function tail(outcome: Outcome, lines = 40): string {
  return `exit ${outcome.code}; last lines of output:\n${outcome.output.trimEnd().split('\n').slice(-lines).join('\n')}`
}
