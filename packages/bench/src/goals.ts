import type { BenchResult, ScenarioResult, TargetSummary } from './results.js'
import type { ScenarioName } from './scenarios.js'
import type { TargetName } from './targets/catalog.js'

/** One of issue 6's performance targets, checked against this run's figures. */
export interface Goal {
  readonly goal: string
  readonly threshold: string
  readonly measured: string
  /** Undefined when this run could not measure it (a target skipped, a scenario not run). */
  readonly met: boolean | undefined
}

function find(result: BenchResult, scenario: ScenarioName, target: TargetName): { s: ScenarioResult; t: TargetSummary } | undefined {
  const s = result.scenarios.find((x) => x.name === scenario)
  const t = s?.targets.find((x) => x.target === target)
  return s === undefined || t === undefined || t.unavailable !== undefined ? undefined : { s, t }
}

function check(
  goal: string,
  threshold: string,
  value: number | undefined,
  pass: (v: number) => boolean,
  show: (v: number) => string,
): Goal {
  if (value === undefined || !Number.isFinite(value)) return { goal, threshold, measured: 'not measured', met: undefined }
  return { goal, threshold, measured: show(value), met: pass(value) }
}

const times = (v: number): string => `${v.toFixed(2)}×`

export function evaluateGoals(result: BenchResult): Goal[] {
  const goals: Goal[] = []
  const allowed: Array<[ScenarioName, string]> = [
    ['one-key', 'one key'],
    ['many-keys', 'rotating keys'],
  ]
  for (const [name, what] of allowed) {
    const sluice = find(result, name, 'sluice')
    const peer = find(result, name, 'fastify-rate-limit')
    goals.push(check(`Everyone allowed (${what}): Sluice vs the ceiling`, '≥ 0.75×', sluice?.t.ratioToCeiling, (v) => v >= 0.75, times))
    goals.push(
      check(
        `Everyone allowed (${what}): Sluice vs @fastify/rate-limit`,
        '≥ 1.35×',
        sluice !== undefined && peer !== undefined ? sluice.t.medianRps / peer.t.medianRps : undefined,
        (v) => v >= 1.35,
        times,
      ),
    )
  }
  const express = find(result, 'express', 'express-sluice')
  goals.push(
    check('Everyone allowed (Express 5): @sluice/express vs Express alone', '≥ 0.75×', express?.t.ratioToCeiling, (v) => v >= 0.75, times),
  )
  goals.push(check('Flood: Sluice vs the ceiling', '≥ 0.95×', find(result, 'flood', 'sluice')?.t.ratioToCeiling, (v) => v >= 0.95, times))
  const at = result.config.connections === 50 ? '' : ` (measured at ${result.config.connections} connections, not 50)`
  for (const [name, what] of allowed) {
    goals.push(
      check(
        `Script calls per request, ${what}, 50 connections${at}`,
        '≤ 0.25',
        find(result, name, 'sluice')?.t.scriptCallsPerOk,
        (v) => v <= 0.25 && at === '',
        (v) => v.toFixed(3),
      ),
    )
  }
  const memory = result.memory.find((m) => m.library === 'sluice')
  goals.push(check('Redis memory per idle key vs the floor', '≤ 1.10×', memory?.ratioToFloor, (v) => v <= 1.1, times))
  return goals
}
