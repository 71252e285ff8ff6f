import type { ChildProcess } from 'node:child_process'
import { Redis, type RedisOptions } from 'ioredis'
import { findBinary } from './binaries.js'
import { freePort } from './free-port.js'
import { spawnUntilReady, stopProcess } from './process.js'

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

const READY = /Ready to accept connections/

async function launch(binary: string, port: number): Promise<ChildProcess> {
  return spawnUntilReady(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
      '--protected-mode',
      'yes',
    ],
    READY,
  )
}

export async function startRedis(options: { port?: number } = {}): Promise<RedisServer> {
  const binary = findBinary('redis-server')
  let port = options.port ?? 0
  let child: ChildProcess | undefined
  // The free port can be taken between the probe and the bind; try a few.
  for (let attempt = 0; child === undefined; attempt++) {
    const candidate = port === 0 ? await freePort() : port
    try {
      child = await launch(binary, candidate)
      port = candidate
    } catch (error) {
      if (attempt >= 4 || options.port !== undefined) throw error
    }
  }
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
      await stopProcess(current, 'SIGKILL')
    },
    async restart() {
      current = await launch(binary, port)
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
