import { fileURLToPath } from 'node:url'
import { spawnUntilReady, stopProcess } from '@sluice/harness'
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

/**
 * Start a target and resolve once it listens. Rejects with TargetUnavailableError when the
 * target cannot be built on this checkout, and with the tail of the child's output when it fails
 * otherwise; in every case the child is gone by then.
 */
export async function startTarget(name: TargetName, options: TargetOptions): Promise<TargetProcess> {
  const {
    child,
    output,
    value: port,
  } = await spawnUntilReady(process.execPath, [...NODE_ARGS, SERVER, '--target', name, '--options', JSON.stringify(options)], {
    name: `target ${name}`,
    cwd: PACKAGE_DIR,
    env: { ...process.env, NODE_ENV: 'production' },
    ipc: true,
    timeoutMs: START_TIMEOUT_MS,
    ready: ({ child, signal }) =>
      new Promise<number>((resolve, reject) => {
        const onMessage = (message: ChildMessage): void => {
          if (message.type === 'ready') done(() => resolve(message.port))
          else if (message.type === 'unavailable') done(() => reject(new TargetUnavailableError(message.reason)))
        }
        function done(then: () => void): void {
          child.off('message', onMessage)
          signal.removeEventListener('abort', abort)
          then()
        }
        const abort = (): void => done(() => {})
        child.on('message', onMessage)
        signal.addEventListener('abort', abort, { once: true })
      }),
  })

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
        const onExit = (): void => done(new Error(`target ${name} exited\n${output()}`))
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
        else done(new Error(`target ${name} is gone\n${output()}`))
      })
    },
    stop: async () => {
      await stopProcess(child, { killAfterMs: STOP_TIMEOUT_MS })
    },
  }
}

/** Targets started together, by name; those this checkout cannot build are listed with the reason instead. */
export interface StartedTargets {
  readonly running: ReadonlyMap<TargetName, TargetProcess>
  readonly unavailable: ReadonlyMap<TargetName, string>
}

/**
 * Start every target at once (each idles while the others are measured). When one fails for
 * another reason than being unavailable, the others are stopped and the failure is thrown.
 */
export async function startTargets(names: readonly TargetName[], options: TargetOptions): Promise<StartedTargets> {
  const started = await Promise.allSettled(names.map((name) => startTarget(name, options)))
  const running = new Map<TargetName, TargetProcess>()
  const unavailable = new Map<TargetName, string>()
  let failure: unknown
  started.forEach((outcome, i) => {
    const name = names[i]!
    if (outcome.status === 'fulfilled') running.set(name, outcome.value)
    else if (outcome.reason instanceof TargetUnavailableError) unavailable.set(name, outcome.reason.message)
    else failure ??= outcome.reason
  })
  if (failure !== undefined) {
    await Promise.all([...running.values()].map((target) => target.stop()))
    throw failure
  }
  return { running, unavailable }
}
