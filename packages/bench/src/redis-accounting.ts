import type { Redis } from 'ioredis'

/**
 * Redis's own numbers: commands it ran (INFO commandstats, which also counts the commands a
 * script runs) and the memory it uses (INFO memory). Nothing here trusts a client's account.
 */

export type CommandCounts = Readonly<Record<string, number>>

// The benchmark's own bookkeeping, and what a client sends once when it connects.
const ADMIN = /^(config|client|command|info|flushdb|flushall|dbsize|ping|hello|select|auth|quit|memory|script|debug)(\||$)/

/** Parse `INFO commandstats` into calls per command, without the benchmark's own commands. */
export function parseCommandStats(info: string): CommandCounts {
  const counts: Record<string, number> = {}
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match === null || ADMIN.test(match[1]!)) continue
    counts[match[1]!] = Number(match[2])
  }
  return counts
}

export async function resetCommandStats(redis: Redis): Promise<void> {
  await redis.config('RESETSTAT')
}

export async function commandStats(redis: Redis): Promise<CommandCounts> {
  return parseCommandStats(await redis.info('commandstats'))
}

/** EVALSHA and EVAL calls (and their read-only forms): one per script round trip. */
export function scriptCalls(counts: CommandCounts): number {
  return (counts.evalsha ?? 0) + (counts.eval ?? 0) + (counts.evalsha_ro ?? 0) + (counts.eval_ro ?? 0)
}

export function totalCalls(counts: CommandCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0)
}

export function sumCounts(all: readonly CommandCounts[]): CommandCounts {
  const sum: Record<string, number> = {}
  for (const counts of all) for (const [name, calls] of Object.entries(counts)) sum[name] = (sum[name] ?? 0) + calls
  return sum
}

function infoField(info: string, field: string): string {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info)
  if (match === null) throw new Error(`INFO has no ${field}`)
  return match[1]!.trim()
}

/**
 * `used_memory` without `mem_clients_normal`. Redis resizes client query and reply buffers as it
 * sees fit (the benchmark's own INFO replies included), which moves `used_memory` by tens of
 * kilobytes with no key written; those buffers are not what keys cost. (The Lua VM's heap is
 * not in `used_memory` at all: it is reported as `used_memory_vm_eval`.)
 */
export async function keyMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory')
  return Number(infoField(info, 'used_memory')) - Number(infoField(info, 'mem_clients_normal'))
}

export async function redisVersion(redis: Redis): Promise<string> {
  return infoField(await redis.info('server'), 'redis_version')
}

/**
 * `keyMemory` once it stops moving: Redis grows its key tables by rehashing incrementally, and
 * the old array is freed only when the rehash is done, which serverCron (10 times a second)
 * finishes a tick or two after the writes stop. So: the same reading three times, 200 ms apart.
 * Bounded: at most `tries` reads.
 */
export async function settledMemory(redis: Redis, tries = 30): Promise<number> {
  let last = await keyMemory(redis)
  let same = 1
  for (let i = 1; i < tries && same < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    const now = await keyMemory(redis)
    same = now === last ? same + 1 : 1
    last = now
  }
  return last
}

/** CPU seconds redis-server has used so far (`used_cpu_sys` + `used_cpu_user` from `INFO cpu`: all its threads). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  return Number(infoField(info, 'used_cpu_sys')) + Number(infoField(info, 'used_cpu_user'))
}
