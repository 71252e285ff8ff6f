import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { type ChildMessage, type LimiterCounters, type TargetName, type TargetOptions, TargetUnavailableError } from './targets/catalog.js'

const FROM_SOURCE = import.meta.url.endsWith('.ts')
const SERVER = fileURLToPath(new URL(FROM_SOURCE ? './server.ts' : './server.js', import.meta.url))
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
// Run from source, the child needs a TypeScript loader, and workspace packages must resolve to
// their sources too (the `sluice:source` export condition), so a stale build is never measured.
const NODE_ARGS = FROM_SOURCE ? ['--conditions=sluice:source', '--import', 'tsx'] : []
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 5_000
const REPLY_TIMEOUT_MS = 5_000

/** A target server running in its own process. */
export interface TargetProcess {
  readonly name: TargetName
  readonly url: string
  readonly pid: number
  /** The limiter's own counters, or null when it keeps none. */
  counters(): Promise<LimiterCounters | null>
  stop(): Promise<void>
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Start a target and resolve once it listens. Rejects with TargetUnavailableError when the
 * target cannot be built on this checkout, and with the child's stderr when it fails otherwise;
 * in every case the child is gone by then.
 */
export async function startTarget(name: TargetName, options: TargetOptions): Promise<TargetProcess> {
  const child = spawn(process.execPath, [...NODE_ARGS, SERVER, '--target', name, '--options', JSON.stringify(options)], {
    cwd: PACKAGE_DIR,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    // Only the tail matters for an error message; keep memory bounded.
    stderr = (stderr + chunk.toString()).slice(-4_000)
  })

  let port: number
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`target ${name} did not start within ${START_TIMEOUT_MS} ms\n${stderr}`)),
        START_TIMEOUT_MS,
      )
      const onMessage = (message: ChildMessage): void => {
        if (message.type === 'ready') finish(() => resolve(message.port))
        else if (message.type === 'unavailable') fail(new TargetUnavailableError(message.reason))
      }
      const onExit = (code: number | null, signal: string | null): void =>
        fail(new Error(`target ${name} exited (${signal ?? code}) before it was ready\n${stderr}`))
      const onError = (error: Error): void => fail(error)
      function finish(then: () => void): void {
        clearTimeout(timer)
        child.off('message', onMessage)
        child.off('exit', onExit)
        child.off('error', onError)
        then()
      }
      function fail(error: Error): void {
        finish(() => reject(error))
      }
      child.on('message', onMessage)
      child.once('exit', onExit)
      child.once('error', onError)
    })
  } catch (error) {
    await stopChild(child)
    throw error
  }

  let nextId = 0
  return {
    name,
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid!,
    counters() {
      const id = nextId++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`target ${name} did not report its counters`)), REPLY_TIMEOUT_MS)
        const onMessage = (message: ChildMessage): void => {
          if (message.type === 'counters' && message.id === id) done(undefined, message.counters)
        }
        const onExit = (): void => done(new Error(`target ${name} exited\n${stderr}`))
        function done(error: Error | undefined, counters: LimiterCounters | null = null): void {
          clearTimeout(timer)
          child.off('message', onMessage)
          child.off('exit', onExit)
          if (error === undefined) resolve(counters)
          else reject(error)
        }
        child.on('message', onMessage)
        child.once('exit', onExit)
        if (child.connected) child.send({ type: 'counters', id })
        else done(new Error(`target ${name} is gone\n${stderr}`))
      })
    },
    stop: () => stopChild(child),
  }
}
