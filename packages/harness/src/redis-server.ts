import type { ChildProcess } from 'node:child_process'
import { Redis, type RedisOptions } from 'ioredis'
import { findBinary } from './binaries.js'
import { onFreePort } from './free-port.js'
import { outputMatches, spawnUntilReady, stopProcess } from './process.js'

/** A redis-server this process started, on a free loopback port, keeping nothing on disk. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** A new client to this server; the caller closes it (or `stop` does). */
  client(options?: RedisOptions): Redis
  /** Kill the server (SIGKILL): a crash, not a shutdown. */
  kill(): Promise<void>
  /** Start it again on the same port after `kill`. */
  restart(): Promise<void>
  /** Freeze the process (SIGSTOP) and thaw it (SIGCONT): a server that stops answering. */
  pause(): void
  resume(): void
  /** Stop the server and close every client made by `client()`. */
  stop(): Promise<void>
}

/**
 * A redis-server on 127.0.0.1:`port` that keeps nothing on disk and logs to its stdout, resolved
 * once it accepts connections; `extraArgs` add to or override the settings.
 */
export async function spawnRedis(binary: string, port: number, extraArgs: readonly string[] = []): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--logfile',
    '',
    '--protected-mode',
    'yes',
  ]
  const { child } = await spawnUntilReady(binary, [...args, ...extraArgs], {
    name: `redis-server on port ${port}`,
    ready: outputMatches(/Ready to accept connections/),
  })
  return child
}

/** `args` add to or override the server's settings (e.g. `['--requirepass', 'secret']`), on every (re)start. */
export async function startRedis(options: { port?: number; args?: readonly string[] } = {}): Promise<RedisServer> {
  const binary = findBinary('redis-server')
  const extraArgs = options.args ?? []
  const [port, child] = await onFreePort((p) => spawnRedis(binary, p, extraArgs), options.port)
  const clients = new Set<Redis>()
  let current: ChildProcess = child
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client(clientOptions) {
      const client = new Redis({ host: '127.0.0.1', port, lazyConnect: false, ...clientOptions })
      clients.add(client)
      client.once('end', () => clients.delete(client))
      return client
    },
    async kill() {
      await stopProcess(current, { signal: 'SIGKILL' })
    },
    async restart() {
      current = await spawnRedis(binary, port, extraArgs)
    },
    pause() {
      current.kill('SIGSTOP')
    },
    resume() {
      current.kill('SIGCONT')
    },
    async stop() {
      for (const client of clients) client.disconnect()
      current.kill('SIGCONT')
      await stopProcess(current)
    },
  }
}
