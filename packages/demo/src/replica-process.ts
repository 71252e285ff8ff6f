import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { freePort } from '@sluice/harness'
import { CONFIG_ENV, configEnv, type DemoConfig } from './config.js'

/** A replica running as a child process of this one. */
export interface ReplicaProcess {
  readonly id: string
  readonly port: number
  /** SIGTERM (a graceful close), SIGKILL if it has not exited within a few seconds. */
  stop(): Promise<void>
}

/**
 * How to run the replica entry beside this module: `replica.js` from dist (`pnpm demo`), or
 * `replica.ts` from src (tests, `--import tsx`), with the loader added when the current process
 * was not started with it (a vitest worker transforms TypeScript itself).
 */
export function replicaCommand(moduleUrl = import.meta.url, execArgv = process.execArgv): { script: string; execArgv: string[] } {
  const fromSource = new URL(moduleUrl).pathname.endsWith('.ts')
  const script = fileURLToPath(new URL(fromSource ? './replica.ts' : './replica.js', moduleUrl))
  const args = [...execArgv]
  const hasTsx = args.some((arg, i) => arg === '--import=tsx' || (arg === '--import' && args[i + 1] === 'tsx'))
  if (fromSource && !hasTsx) args.push('--conditions=sluice:source', '--import', 'tsx')
  return { script, execArgv: args }
}

/** The parent's environment without any replica setting, so none leaks into a child by accident. */
function childEnv(config: DemoConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.keys(CONFIG_ENV)) delete env[name]
  for (const [name, value] of Object.entries(configEnv(config))) if (value !== undefined) env[name] = value
  return env
}

const HEALTH_ATTEMPTS = 300
const HEALTH_INTERVAL_MS = 50
const STOP_GRACE_MS = 5_000

async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) })
    await response.body?.cancel()
    return response.ok
  } catch {
    return false
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return
  const gone = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  await gone
  clearTimeout(timer)
}

async function launch(config: DemoConfig): Promise<ChildProcess> {
  const { script, execArgv } = replicaCommand()
  const child = spawn(process.execPath, [...execArgv, script], { env: childEnv(config), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4_000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const failed = (why: string): Error => new Error(`${config.instanceId} ${why}:\n${output.trim()}`)
  try {
    for (let attempt = 0; ; attempt++) {
      if (exited(child)) throw failed(`exited (${child.signalCode ?? child.exitCode}) before answering /health`)
      if (await healthy(config.port)) return child
      if (attempt >= HEALTH_ATTEMPTS) throw failed(`did not answer /health on port ${config.port} after ${HEALTH_ATTEMPTS} attempts`)
      await delay(HEALTH_INTERVAL_MS)
    }
  } catch (error) {
    await stopChild(child)
    throw error
  }
}

/**
 * Start a replica on a free port (`config.port` is ignored) and resolve once it answers
 * `/health`. A port taken between the probe and the bind means another try, a few times.
 */
export async function startReplica(config: Omit<DemoConfig, 'port'>): Promise<ReplicaProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    try {
      const child = await launch({ ...config, port })
      return { id: config.instanceId, port, stop: () => stopChild(child) }
    } catch (error) {
      if (!/EADDRINUSE/.test(String(error)) || attempt >= 4) throw error
    }
  }
}
