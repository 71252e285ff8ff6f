/**
 * One target server, in a process of its own so that it never shares an event loop (or a CPU
 * time slice) with the load generator. Started and stopped by children.ts over an IPC channel.
 *
 *   node server.js --target <name> --options '<TargetOptions as JSON>'
 */
import { parseArgs } from 'node:util'
import {
  type ChildMessage,
  type ParentMessage,
  TARGET_NAMES,
  type TargetName,
  type TargetOptions,
  type TargetServer,
  TargetUnavailableError,
} from './targets/catalog.js'

type Builder = { build(options: TargetOptions): Promise<TargetServer> }

// Loaded on demand: a target whose package is missing must not keep the others from starting.
const BUILDERS: Record<TargetName, () => Promise<Builder>> = {
  ceiling: () => import('./targets/ceiling.js'),
  headers: () => import('./targets/headers.js'),
  denied: () => import('./targets/denied.js'),
  sluice: () => import('./targets/sluice.js'),
  'sluice-capped': () => import('./targets/sluice-capped.js'),
  'fastify-rate-limit': () => import('./targets/fastify-rate-limit.js'),
  rlflex: () => import('./targets/rlflex.js'),
  express: () => import('./targets/express.js'),
  'express-headers': () => import('./targets/express-headers.js'),
  'express-sluice': () => import('./targets/express-sluice.js'),
}

function send(message: ChildMessage): void {
  process.send?.(message)
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('server.ts is started by the benchmark runner, with an IPC channel')
  const { values } = parseArgs({ options: { target: { type: 'string' }, options: { type: 'string' } } })
  const name = values.target as TargetName
  if (!TARGET_NAMES.includes(name)) throw new Error(`unknown target ${JSON.stringify(values.target)}`)
  const options = JSON.parse(values.options ?? '{}') as TargetOptions

  let server: TargetServer
  try {
    server = await (await BUILDERS[name]()).build(options)
  } catch (error) {
    if (!(error instanceof TargetUnavailableError)) throw error
    send({ type: 'unavailable', reason: error.message })
    process.disconnect()
    return
  }

  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    // A server that cannot close in time is not worth waiting for.
    setTimeout(() => process.exit(1), 3_000).unref()
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // The runner is gone (crashed or killed): do not outlive it.
  process.on('disconnect', stop)
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'counters') send({ type: 'counters', id: message.id, counters: server.counters() ?? null })
  })

  send({ type: 'ready', port: await server.listen(0) })
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
