import { fixed, int, table } from './markdown-format.js'
import type { SweepLevel, SweepResult } from './results.js'
import { levelName } from './sweep.js'
import { TARGETS } from './targets/catalog.js'
import { fill } from './template.js'

/** The load a deployment is sized for, and how busy each Redis master may run at it. */
export const SIZING_RPS = 1_000_000
export const SIZING_CPU_SHARE = 0.5

/**
 * How many Redis masters a load needs when each costs `redisUs` of Redis CPU per request: a
 * master runs its commands on one core, so at SIZING_CPU_SHARE of it one serves
 * SIZING_CPU_SHARE × 1e6 ÷ redisUs requests a second.
 */
export function mastersFor(redisUs: number, rps = SIZING_RPS, share = SIZING_CPU_SHARE): { perMaster: number; masters: number } {
  const perMaster = (share * 1e6) / redisUs
  return { perMaster, masters: Math.max(1, Math.ceil(rps / perMaster)) }
}

/** The loads the sizing is read at: half of saturation (paced) and the closed loop. */
function sizingLevels(sweep: SweepResult): SweepLevel[] {
  return sweep.levels.filter((level) => (level.kind === 'paced' && level.share === 0.5) || level.kind === 'saturated')
}

const loadName = (level: SweepLevel): string =>
  level.kind === 'saturated'
    ? `saturated, ${level.connections} connections`
    : `${levelName(level)} load, ${int(level.offeredRps ?? Number.NaN)} req/s`

/**
 * Redis masters for 1 M req/s at 50 % CPU, for every limiter, as arithmetic on the Redis CPU per
 * request the sweep measured: the question an operator sizing a deployment asks of these tables.
 */
export function mastersSection(sweep: SweepResult | undefined): string {
  if (sweep === undefined) return ''
  const rows: string[][] = []
  for (const level of sizingLevels(sweep)) {
    for (const t of level.targets) {
      if (t.unavailable !== undefined || !TARGETS[t.target].limits || !(t.redisUs > 0)) continue
      const { perMaster, masters } = mastersFor(t.redisUs)
      rows.push([
        loadName(level),
        t.label,
        fixed(t.redisUs, 1),
        `${int(SIZING_CPU_SHARE * 1e6)} µs ÷ ${fixed(t.redisUs, 1)} µs = ${int(perMaster)}`,
        `⌈${int(SIZING_RPS)} ÷ ${int(perMaster)}⌉ = **${masters}**`,
      ])
    }
  }
  if (rows.length === 0) return ''
  return fill('masters', {
    rps: int(SIZING_RPS),
    share: `${Math.round(SIZING_CPU_SHARE * 100)} %`,
    table: table(['Load', 'Target', 'Redis µs/req', 'req/s per master at 50 % CPU', 'Masters for 1 M req/s'], rows, [
      'l',
      'l',
      'r',
      'r',
      'r',
    ]),
  })
}
