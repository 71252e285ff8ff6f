import type { ChildProcess } from 'node:child_process'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Cluster, type ClusterOptions, Redis } from 'ioredis'
import { findBinary } from './binaries.js'
import { freePort, onFreePort } from './free-port.js'
import { pollUntil } from './poll.js'
import { stopProcess } from './process.js'
import { spawnRedis } from './redis-server.js'

const run = promisify(execFile)

/** A Redis Cluster of real redis-server processes this process started on loopback. */
export interface RedisClusterServer {
  /** Every node's port, masters first. */
  readonly ports: readonly number[]
  /** A new ioredis Cluster client; the caller closes it (or `stop` does). */
  client(options?: ClusterOptions): Cluster
  /** A plain client to one node, e.g. for CLUSTER commands. */
  node(port: number): Redis
  /** Move `slot` to the master on `toPort` with its keys (CLUSTER SETSLOT / MIGRATE), live. */
  moveSlot(slot: number, toPort: number): Promise<void>
  /** The port of the master serving `slot`. */
  ownerOf(slot: number): Promise<number>
  /** Kill the node on `port` (SIGKILL): with replicas, the cluster fails over to one of them. */
  kill(port: number): Promise<void>
  stop(): Promise<void>
}

/**
 * Poll an INFO section until `ok` holds; past `deadline` (ms since the epoch), throw `what` with
 * the last answer, which says what is missing.
 */
async function untilInfo(what: string, read: () => Promise<string>, ok: (info: string) => boolean, deadline: number): Promise<void> {
  let info = ''
  const probe = async (): Promise<boolean> => {
    info = await read()
    return ok(info)
  }
  await pollUntil(probe, 50, AbortSignal.timeout(Math.max(0, deadline - Date.now()))).catch((error: unknown) => {
    throw (error as Error).name === 'TimeoutError' ? new Error(`${what}:\n${info}`) : error
  })
}

/**
 * Start `masters × (1 + replicas)` cluster-enabled redis-servers and join them with
 * `redis-cli --cluster create` (which assigns the first `masters` nodes as masters). `args` add to
 * or override every node's settings (e.g. `['--cluster-require-full-coverage', 'no']`).
 */
export async function startRedisCluster(
  options: { masters?: number; replicas?: number; args?: readonly string[] } = {},
): Promise<RedisClusterServer> {
  const masters = options.masters ?? 3
  const replicas = options.replicas ?? 0
  const extraArgs = options.args ?? []
  const serverBin = findBinary('redis-server')
  const cliBin = findBinary('redis-cli')
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cluster-'))
  const ports: number[] = []
  const children: ChildProcess[] = []
  const byPort = new Map<number, ChildProcess>()
  const clients = new Set<Redis | Cluster>()
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const [port, child] = await onFreePort(async (p) => {
        // The cluster bus gets a free port of its own: the default, port + 10000, may be taken or
        // past 65535.
        const bus = await freePort()
        const args = ['--cluster-enabled', 'yes', '--cluster-port', String(bus), '--cluster-config-file', `nodes-${p}.conf`]
        return spawnRedis(serverBin, p, [...args, '--cluster-node-timeout', '2000', '--dir', dir, ...extraArgs])
      })
      ports.push(port)
      children.push(child)
      byPort.set(port, child)
    }
    await run(
      cliBin,
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { timeout: 30_000 },
    )
    const deadline = Date.now() + 20_000
    for (const port of ports) {
      // Replicas report ok only once they know every master; wait for all of them.
      const node = new Redis({ host: '127.0.0.1', port })
      try {
        // `redis-cli --cluster create` returns before every node has heard of every slot.
        await untilInfo(
          'cluster not ready',
          () => node.cluster('INFO'),
          (info) => /cluster_state:ok/.test(info),
          deadline,
        )
        // A replica can only be promoted once it has synced with its master.
        if (ports.indexOf(port) >= masters) {
          const synced = (info: string): boolean => /role:slave/.test(info) && /master_link_status:up/.test(info)
          await untilInfo('replica never synced', () => node.info('replication'), synced, deadline)
        }
      } finally {
        node.disconnect()
      }
    }
  } catch (error) {
    await Promise.all(children.map((c) => stopProcess(c, { signal: 'SIGKILL' })))
    await rm(dir, { recursive: true, force: true })
    throw error
  }

  const node = (port: number): Redis => {
    const client = new Redis({ host: '127.0.0.1', port })
    clients.add(client)
    return client
  }
  const admins = new Map<number, Redis>()
  const admin = (port: number): Redis => {
    let client = admins.get(port)
    if (client === undefined) {
      client = node(port)
      admins.set(port, client)
    }
    return client
  }
  const live = (): number => ports.find((p) => byPort.get(p)?.exitCode === null && byPort.get(p)?.signalCode === null)!
  const ownerOf = async (slot: number): Promise<number> => {
    const slots = await admin(live()).cluster('SLOTS')
    const range = slots.find(([from, to]) => slot >= from && slot <= to)
    if (range === undefined) throw new Error(`slot ${slot} is not served`)
    return range[2]![1]
  }

  return {
    ports,
    client(clientOptions) {
      const client = new Cluster(
        ports.map((port) => ({ host: '127.0.0.1', port })),
        clientOptions,
      )
      clients.add(client)
      return client
    },
    node,
    ownerOf,
    async kill(port) {
      admins.get(port)?.disconnect()
      admins.delete(port)
      const child = byPort.get(port)
      if (child !== undefined) await stopProcess(child, { signal: 'SIGKILL' })
    },
    async moveSlot(slot, toPort) {
      const fromPort = await ownerOf(slot)
      if (fromPort === toPort) return
      const source = admin(fromPort)
      const target = admin(toPort)
      const sourceId = await source.cluster('MYID')
      const targetId = await target.cluster('MYID')
      // The documented live-resharding sequence: importing, migrating, move keys, then assign.
      await target.cluster('SETSLOT', slot, 'IMPORTING', sourceId)
      await source.cluster('SETSLOT', slot, 'MIGRATING', targetId)
      for (;;) {
        const keys = (await source.cluster('GETKEYSINSLOT', slot, 100)) as string[]
        if (keys.length === 0) break
        await source.migrate('127.0.0.1', toPort, '', 0, 5000, 'KEYS', ...keys)
      }
      for (const port of ports) await admin(port).cluster('SETSLOT', slot, 'NODE', targetId)
    },
    async stop() {
      for (const client of clients) client.disconnect()
      await Promise.all(children.map((c) => stopProcess(c)))
      await rm(dir, { recursive: true, force: true })
    },
  }
}
