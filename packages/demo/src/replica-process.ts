import { fileURLToPath } from 'node:url'
import { onFreePort, type ProcessExit, probeUntil, spawnUntilReady, stopProcess } from '@sluice/harness'
import { CONFIG_ENV, configEnv, type DemoConfig } from './config.js'

/** A replica running as a child process of this one. */
export interface ReplicaProcess {
  readonly id: string
  readonly port: number
  /** SIGTERM (a graceful close), SIGKILL if it has not exited within a few seconds; resolves with how it ended. */
  stop(): Promise<ProcessExit>
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

const HEALTH_INTERVAL_MS = 50
// Three replicas starting at once from TypeScript sources on a busy 2-core machine take a while.
const READY_TIMEOUT_MS = 20_000

async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) })
    await response.body?.cancel()
    return response.ok
  } catch {
    return false
  }
}

/**
 * Start a replica on a free port (`config.port` is ignored) and resolve once it answers
 * `/health`. A port taken between the probe and the bind means another try, a few times.
 */
export async function startReplica(config: Omit<DemoConfig, 'port'>): Promise<ReplicaProcess> {
  const { script, execArgv } = replicaCommand()
  const [port, { child }] = await onFreePort((p) =>
    spawnUntilReady(process.execPath, [...execArgv, script], {
      name: config.instanceId,
      env: childEnv({ ...config, port: p }),
      timeoutMs: READY_TIMEOUT_MS,
      ready: probeUntil(() => healthy(p), HEALTH_INTERVAL_MS),
    }),
  )
  return { id: config.instanceId, port, stop: () => stopProcess(child) }
}
