import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'

let ticksPerSecond: number | undefined

/** The kernel's clock tick (`getconf CLK_TCK`, 100 on Linux): the unit of /proc's CPU times. */
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
  if (!(ticksPerSecond > 0)) throw new Error(`getconf CLK_TCK gave no tick length (${ticksPerSecond})`)
  return ticksPerSecond
}

/**
 * CPU seconds a process has used so far, all its threads (V8's, libuv's) counted: `utime` +
 * `stime` from /proc/<pid>/stat, as the kernel accounts them, to the clock tick (10 ms).
 */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Field 2, the command name in parentheses, may itself hold spaces and parentheses: count
  // from the last ')'. What follows starts at field 3, so utime (14) and stime (15) are 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc/${pid}/stat: ${stat}`)
  return (utime + stime) / clockTicks()
}
