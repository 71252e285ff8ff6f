import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { basename } from 'node:path'
import { pollUntil } from './poll.js'

/** How much of a child's output an error message carries: the end is where it says why it failed. */
const OUTPUT_TAIL_CHARS = 4_000
const READY_TIMEOUT_MS = 10_000
const KILL_AFTER_MS = 5_000

/**
 * Keep the last characters a child writes to stdout and stderr, and keep both pipes drained so
 * a chatty child never blocks on a full one.
 */
export function outputTail(child: ChildProcess, max = OUTPUT_TAIL_CHARS): () => string {
  let output = ''
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-max)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return () => output
}

/** What a readiness check is given: the child, its output so far, and a signal that aborts when the start is given up. */
export interface ReadyContext {
  readonly child: ChildProcess
  readonly output: () => string
  readonly signal: AbortSignal
}

/** Resolves (with whatever the caller needs from the child, such as its port) once the child is ready. */
export type Readiness<T> = (context: ReadyContext) => Promise<T>

/** Ready once the child's output matches `pattern`: no polling. */
export function outputMatches(pattern: RegExp): Readiness<void> {
  return ({ child, output, signal }) =>
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (!pattern.test(output())) return
        done()
        resolve()
      }
      function done(): void {
        child.stdout?.off('data', check)
        child.stderr?.off('data', check)
        signal.removeEventListener('abort', done)
      }
      // Registered after outputTail's listeners, so output() already holds the chunk.
      child.stdout?.on('data', check)
      child.stderr?.on('data', check)
      signal.addEventListener('abort', done, { once: true })
    })
}

/** Ready once `probe` answers true, asked every `intervalMs`, for servers that say nothing when they are. */
export function probeUntil(probe: () => Promise<boolean>, intervalMs: number): Readiness<void> {
  return ({ signal }) => pollUntil(probe, intervalMs, signal)
}

export interface SpawnUntilReadyOptions<T> {
  readonly ready: Readiness<T>
  /** Names the child in error messages. @default the command's file name */
  readonly name?: string
  /** @default 10 000 */
  readonly timeoutMs?: number
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  /** Open an IPC channel, for a Node child that reports through `process.send`. */
  readonly ipc?: boolean
}

/** A child that is ready, with the tail of what it wrote so far (and goes on writing). */
export interface ReadyProcess<T> {
  readonly child: ChildProcess
  readonly output: () => string
  /** What `ready` resolved with. */
  readonly value: T
}

/**
 * Spawn a server and resolve once `ready` says it is. Reject when it exits first, fails to
 * spawn, or is not ready within `timeoutMs`, with the tail of its output; a rejection of `ready`
 * itself passes through unchanged. On every rejection the child is gone by then.
 */
export async function spawnUntilReady<T = void>(
  command: string,
  args: readonly string[],
  options: SpawnUntilReadyOptions<T>,
): Promise<ReadyProcess<T>> {
  const name = options.name ?? basename(command)
  const timeoutMs = options.timeoutMs ?? READY_TIMEOUT_MS
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc === true ? (['ipc'] as const) : [])],
  })
  const output = outputTail(child)
  const failed = (why: string): Error => new Error(`${name} ${why}:\n${output().trim()}`)
  let settle = (): void => {}
  const gone = new Promise<never>((_, reject) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      reject(failed(`exited (${signal ?? code}) before it was ready`))
    const timer = setTimeout(() => reject(failed(`was not ready within ${timeoutMs} ms`)), timeoutMs)
    child.once('exit', onExit)
    child.once('error', reject)
    settle = () => {
      clearTimeout(timer)
      child.off('exit', onExit)
      child.off('error', reject)
    }
  })
  const giveUp = new AbortController()
  try {
    const value = await Promise.race([options.ready({ child, output, signal: giveUp.signal }), gone])
    return { child, output, value }
  } catch (error) {
    giveUp.abort()
    await stopProcess(child, { signal: 'SIGKILL' })
    throw error
  } finally {
    settle()
  }
}

/** How a child ended: an exit code, or the signal that killed it. */
export interface ProcessExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface StopOptions {
  /** @default 'SIGTERM' */
  readonly signal?: NodeJS.Signals
  /** SIGKILL the child if it has not exited this long after `signal`. @default 5 000 */
  readonly killAfterMs?: number
}

/** Signal a child, SIGKILL it if it lingers, and resolve once it is gone, with how it ended. */
export async function stopProcess(child: ChildProcess, options: StopOptions = {}): Promise<ProcessExit> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode }
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  child.kill(options.signal ?? 'SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? KILL_AFTER_MS)
  try {
    const [code, signal] = await exited
    return { code, signal }
  } finally {
    clearTimeout(timer)
  }
}
