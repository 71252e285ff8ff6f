import { allowed, count, rate, seconds } from './format.js'
import { SCENARIOS } from './scenarios.js'
import type { Report } from './types.js'

type BoundParts = Pick<Report, 'bound' | 'capacity' | 'refillPerSecond' | 'elapsedSeconds'>

const admissions = (n: number): string => `${count(n)} degraded admission${n === 1 ? '' : 's'}`

/**
 * A bound and how it was computed, e.g. `300 (100 + 50/s × 4.0 s)`, or with degraded admissions
 * `312 (100 + 50/s × 4.0 s + 12 degraded admissions)`: every reader can redo the arithmetic.
 */
export function boundFormula(r: BoundParts, degradedAdmitted = 0): string {
  return `${allowed(r.bound + degradedAdmitted)} (${arithmetic(r, degradedAdmitted)})`
}

/** The sum alone: `100 + 50/s × 4.0 s`, and `+ 12 degraded admissions` when there were some. */
export function arithmetic(r: Omit<BoundParts, 'bound'>, degradedAdmitted = 0): string {
  const shared = `${count(r.capacity)} + ${rate(r.refillPerSecond)} × ${seconds(r.elapsedSeconds)}`
  return degradedAdmitted === 0 ? shared : `${shared} + ${admissions(degradedAdmitted)}`
}

/**
 * The per-client bound of a run in words: one client's formula, or for several the shared part
 * and how degraded admissions add to it.
 */
export function runBound(r: Pick<Report, 'clients' | 'totals'> & BoundParts & Partial<Pick<Report, 'scenario' | 'load'>>): string {
  if (r.scenario !== undefined && r.load !== undefined && SCENARIOS[r.scenario].measure === 'tokens')
    return settledFormula({ ...r, load: r.load })
  if (r.clients.length === 1) return boundFormula(r, r.clients[0]!.degradedAdmitted)
  const shared = boundFormula(r)
  return r.totals.degradedAdmitted === 0 ? shared : `${shared} plus that client's own degraded admissions`
}

/**
 * The settle scenario's bound in tokens and how it was computed, e.g. `262 tokens (100 + 50/s ×
 * 2.0 s + 2 connections × 31 tokens of overshoot)`, with `+ 12 degraded tokens` when there were
 * some (the client's degraded admissions, counted in tokens).
 */
export function settledFormula(r: Pick<Report, 'clients' | 'load'> & BoundParts): string {
  const degraded = r.clients[0]?.degradedAdmitted ?? 0
  const shared = r.capacity + r.refillPerSecond * r.elapsedSeconds
  const overshoot = Math.round((r.bound - shared) / Math.max(1, r.load.connectionsPerClient))
  const parts = `${arithmetic(r)} + ${count(r.load.connectionsPerClient)} connections × ${count(overshoot)} tokens of overshoot`
  return `${count(Math.floor(r.bound + degraded))} tokens (${degraded === 0 ? parts : `${parts} + ${count(degraded)} degraded tokens`})`
}

/**
 * What degraded answers did to the verdict, or undefined when there were none: they came from a
 * replica's local fallback bucket, took nothing from Redis, and each admission raised its
 * client's bound by one.
 */
export function degradedNote(r: Pick<Report, 'clients' | 'totals'>): string | undefined {
  if (r.totals.degraded === 0) return undefined
  const answers = `${count(r.totals.degraded)} answer${r.totals.degraded === 1 ? '' : 's'} came from a replica's local fallback bucket (Redis was too slow or unreachable)`
  if (r.totals.degradedAdmitted === 0) return `${answers}; none admitted a request, so no bound includes any.`
  const perClient = r.clients
    .filter((c) => c.degradedAdmitted > 0)
    .map((c) => `${c.label} ${count(c.degradedAdmitted)}`)
    .join(', ')
  return `${answers}; the ${admissions(r.totals.degradedAdmitted)} took nothing from Redis, so each adds one to its client's bound (${perClient}).`
}
