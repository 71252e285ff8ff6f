import { readFile } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  readonly redis: string
  /** The 1-minute load average when the run began: other work sharing the cores shows here. */
  readonly loadAtStart: number
  readonly packages: Readonly<Record<string, string>>
}

/** The 1-minute load average now. */
export function currentLoad(): number {
  return loadavg()[0] ?? Number.NaN
}

/** The libraries whose versions decide the figures. */
export const MEASURED_PACKAGES = ['fastify', 'express', 'ioredis', '@fastify/rate-limit', 'rate-limiter-flexible', 'autocannon'] as const

async function installedVersion(name: string): Promise<string> {
  // The copy this package resolves, which is the one the targets load.
  const url = new URL(`../node_modules/${name}/package.json`, import.meta.url)
  try {
    return (JSON.parse(await readFile(url, 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

export async function describeMachine(redisVersion: string, loadAtStart: number): Promise<Machine> {
  const packages: Record<string, string> = {}
  for (const name of MEASURED_PACKAGES) packages[name] = await installedVersion(name)
  const cpu = cpus()
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: redisVersion,
    loadAtStart,
    packages,
  }
}
