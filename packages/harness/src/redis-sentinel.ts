import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import { findBinary } from './binaries.js'
import { onFreePort } from './free-port.js'
import { pollUntil } from './poll.js'
import { outputMatches, spawnUntilReady, stopProcess } from './process.js'
import { spawnRedis } from './redis-server.js'

/** A primary, its replicas and the Sentinels that watch them, started by this process on loopback. */
export interface RedisSentinelServer {
  /** The name the Sentinels know the primary by (`sentinel monitor <name>`): what a client asks them for. */
  readonly name: string
  /** The Sentinels' addresses, for a client's `sentinels` (ioredis) or `sentinelRootNodes` (node-redis). */
  readonly sentinels: readonly { readonly host: string; readonly port: number }[]
  /** Every data node's port: the first primary first, then its replicas. */
  readonly ports: readonly number[]
  /** `down-after-milliseconds`: how long the primary must be unreachable before the Sentinels act. */
  readonly downAfterMs: number
  /** The port of the primary as the Sentinels name it now. */
  primaryPort(): Promise<number>
  /** A new ioredis client through the Sentinels (`sentinels`, `name`); the caller closes it (or `stop` does). */
  client(options?: RedisOptions): Redis
  /** A plain client to one data node (INFO, DEBUG SLEEP, CLIENT PAUSE…), kept until `stop`. */
  node(port: number): Redis
  /** SIGKILL the data node on `port`: a crash. */
  kill(port: number): Promise<void>
  /** Start the node on `port` again, with the settings it first had (the Sentinels make a demoted primary a replica). */
  restart(port: number): Promise<void>
  /** Until the Sentinels name a primary other than `port` and it says it is one; throws past `timeoutMs`. */
  promotedFrom(port: number, timeoutMs?: number): Promise<number>
  stop(): Promise<void>
}

export interface RedisSentinelOptions {
  /** Replicas of the primary. @default 1 */
  readonly replicas?: number
  /** Sentinels (a quorum of a majority of them). @default 3 */
  readonly sentinels?: number
  /** Sentinel's `down-after-milliseconds`. @default 1000 */
  readonly downAfterMs?: number
  /** Added to every data node's settings. */
  readonly args?: readonly string[]
}

const NAME = 'sluice-primary'
const READY_MS = 20_000

/** Poll `probe` every 50 ms until it holds; past `timeoutMs`, throw `what`. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  await pollUntil(probe, 50, AbortSignal.timeout(timeoutMs)).catch((error: unknown) => {
    throw (error as Error).name === 'TimeoutError' ? new Error(`${what} within ${timeoutMs} ms`) : error
  })
}

/**
 * A primary and `replicas` replicas (`enable-debug-command local`, so DEBUG SLEEP works), and
 * `sentinels` Sentinels (`redis-server sentinel.conf --sentinel`) watching them, resolved once
 * every replica has synced and every Sentinel knows the replicas and the other Sentinels: a
 * failover can happen from then on.
 */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelServer> {
  const replicas = options.replicas ?? 1
  const sentinelCount = options.sentinels ?? 3
  const downAfterMs = options.downAfterMs ?? 1_000
  const binary = findBinary('redis-server')
  const dir = await mkdtemp(join(tmpdir(), 'sluice-sentinel-'))
  const dataArgs = ['--enable-debug-command', 'local', '--dir', dir, ...(options.args ?? [])]
  const children = new Map<number, ChildProcess>()
  const argsOf = new Map<number, string[]>()
  const sentinelChildren: ChildProcess[] = []
  const clients = new Set<Redis>()
  const admins = new Map<number, Redis>()
  const node = (port: number): Redis => {
    let client = admins.get(port)
    if (client === undefined) {
      client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 })
      client.on('error', () => {})
      admins.set(port, client)
    }
    return client
  }
  const dropAdmin = (port: number): void => {
    admins.get(port)?.disconnect()
    admins.delete(port)
  }
  const start = async (port: number | undefined, args: string[]): Promise<number> => {
    const [started, child] = await onFreePort((p) => spawnRedis(binary, p, args), port)
    children.set(started, child)
    argsOf.set(started, args)
    return started
  }
  const stopAll = async (): Promise<void> => {
    for (const client of [...clients, ...admins.values()]) client.disconnect()
    await Promise.all([...sentinelChildren, ...children.values()].map((c) => stopProcess(c, { signal: 'SIGKILL' })))
    await rm(dir, { recursive: true, force: true })
  }
  const sentinels: { host: string; port: number }[] = []
  try {
    const primary = await start(undefined, dataArgs)
    const replicaPorts: number[] = []
    for (let i = 0; i < replicas; i++) replicaPorts.push(await start(undefined, [...dataArgs, '--replicaof', '127.0.0.1', String(primary)]))
    const synced = async (port: number): Promise<boolean> => /master_link_status:up/.test(await node(port).info('replication'))
    for (const port of replicaPorts) await until(`replica ${port} never synced`, () => synced(port), READY_MS)

    const quorum = Math.floor(sentinelCount / 2) + 1
    for (let i = 0; i < sentinelCount; i++) {
      const [port, child] = await onFreePort(async (p) => {
        // Sentinel rewrites its own config file: one each, writable.
        const file = join(dir, `sentinel-${p}.conf`)
        await writeFile(
          file,
          [
            `port ${p}`,
            'bind 127.0.0.1',
            `sentinel monitor ${NAME} 127.0.0.1 ${primary} ${quorum}`,
            `sentinel down-after-milliseconds ${NAME} ${downAfterMs}`,
            `sentinel failover-timeout ${NAME} 10000`,
            `sentinel parallel-syncs ${NAME} 1`,
            '',
          ].join('\n'),
        )
        const { child } = await spawnUntilReady(binary, [file, '--sentinel', '--logfile', ''], {
          name: `redis-sentinel on port ${p}`,
          ready: outputMatches(/\+monitor master/),
        })
        return child
      })
      sentinels.push({ host: '127.0.0.1', port })
      sentinelChildren.push(child)
    }
    // A failover needs a known replica and a majority of Sentinels that know each other.
    for (const { port } of sentinels) {
      const sentinel = node(port)
      await until(
        `Sentinel ${port} never learned its peers and replicas`,
        async () => {
          const peers = (await sentinel.call('SENTINEL', 'SENTINELS', NAME)) as unknown[]
          const known = (await sentinel.call('SENTINEL', 'REPLICAS', NAME)) as unknown[]
          return peers.length === sentinelCount - 1 && known.length === replicas
        },
        READY_MS,
      )
    }
  } catch (error) {
    await stopAll()
    throw error
  }

  const ports = [...children.keys()]
  const primaryPort = async (): Promise<number> => {
    let lastError: unknown
    for (const { port } of sentinels) {
      try {
        const [, p] = (await node(port).call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as [string, string]
        return Number(p)
      } catch (error) {
        lastError = error
      }
    }
    throw lastError
  }
  return {
    name: NAME,
    sentinels,
    ports,
    downAfterMs,
    primaryPort,
    client(clientOptions) {
      const client = new Redis({ sentinels, name: NAME, ...clientOptions })
      clients.add(client)
      client.once('end', () => clients.delete(client))
      return client
    },
    node,
    async kill(port) {
      dropAdmin(port)
      const child = children.get(port)
      if (child !== undefined) await stopProcess(child, { signal: 'SIGKILL' })
    },
    async restart(port) {
      dropAdmin(port)
      await start(port, argsOf.get(port) ?? dataArgs)
    },
    async promotedFrom(port, timeoutMs = 30_000) {
      let promoted = port
      await until(
        `no replica of ${port} was promoted`,
        async () => {
          promoted = await primaryPort()
          return promoted !== port && /role:master/.test(await node(promoted).info('replication'))
        },
        timeoutMs,
      )
      return promoted
    },
    stop: stopAll,
  }
}
