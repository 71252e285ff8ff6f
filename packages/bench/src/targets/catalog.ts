/**
 * The servers under test. This file is shared by the runner and the child processes, so it holds
 * only names and plain data: importing it never loads a framework or a limiter.
 */

export const TARGET_NAMES = [
  'ceiling',
  'headers',
  'denied',
  'sluice',
  'sluice-capped',
  'fastify-rate-limit',
  'rlflex',
  'express',
  'express-headers',
  'express-sluice',
] as const
export type TargetName = (typeof TARGET_NAMES)[number]

export interface TargetInfo {
  readonly name: TargetName
  /** How the target is named in the tables. */
  readonly label: string
  /** The target without a limiter on the same framework: what ratios are taken against. */
  readonly ceiling: TargetName
  /** False for the targets with no limiter (the ceilings and the baselines that send Sluice's answers). */
  readonly limits: boolean
}

export const TARGETS: Readonly<Record<TargetName, TargetInfo>> = {
  ceiling: { name: 'ceiling', label: 'Fastify, no limiter (ceiling)', ceiling: 'ceiling', limits: false },
  headers: { name: 'headers', label: "Fastify sending Sluice's quota headers, no limiter", ceiling: 'ceiling', limits: false },
  denied: { name: 'denied', label: "Fastify sending Sluice's 429 (headers + problem body), no limiter", ceiling: 'ceiling', limits: false },
  sluice: { name: 'sluice', label: 'Fastify + @sluice/fastify', ceiling: 'ceiling', limits: true },
  'sluice-capped': {
    name: 'sluice-capped',
    label: 'Fastify + @sluice/fastify, batchIntervalMs: 1',
    ceiling: 'ceiling',
    limits: true,
  },
  'fastify-rate-limit': {
    name: 'fastify-rate-limit',
    label: 'Fastify + @fastify/rate-limit (Redis store)',
    ceiling: 'ceiling',
    limits: true,
  },
  rlflex: { name: 'rlflex', label: 'Fastify + rate-limiter-flexible (RateLimiterRedis)', ceiling: 'ceiling', limits: true },
  express: { name: 'express', label: 'Express 5, no limiter (ceiling)', ceiling: 'express', limits: false },
  'express-headers': {
    name: 'express-headers',
    label: "Express 5 sending Sluice's quota headers, no limiter",
    ceiling: 'express',
    limits: false,
  },
  'express-sluice': { name: 'express-sluice', label: 'Express 5 + @sluice/express', ceiling: 'express', limits: true },
}

/** The header every limiter keys on, so all of them count the same clients. */
export const KEY_HEADER = 'x-api-key'

/**
 * One policy, stated once for all limiters: a bucket of `capacity` refilled at
 * `refillPerSecond`. The fixed-window peers get the same long-run rate: `capacity` requests per
 * `capacity / refillPerSecond` seconds.
 */
export interface LimitSpec {
  readonly capacity: number
  readonly refillPerSecond: number
}

export function windowSeconds(limits: LimitSpec): number {
  return Math.max(1, Math.ceil(limits.capacity / limits.refillPerSecond))
}

/** What a child process is told about the target it serves. */
export interface TargetOptions {
  readonly redisPort: number
  readonly limits: LimitSpec
}

/** The limiter's own counters, where it keeps them (Sluice): proof that Redis answered every check. */
export interface LimiterCounters {
  readonly storeAnswers: number
  readonly degradedAnswers: number
  readonly storeErrors: number
}

/** A built server, ready to listen. */
export interface TargetServer {
  listen(port: number): Promise<number>
  close(): Promise<void>
  counters(): LimiterCounters | undefined
}

/** Thrown by a target that cannot be built on this machine: the run goes on without it, and the report says why. */
export class TargetUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'TargetUnavailableError'
  }
}

/** Messages from a target's child process to the runner. */
export type ChildMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'unavailable'; readonly reason: string }
  | { readonly type: 'counters'; readonly id: number; readonly counters: LimiterCounters | null }

/** Messages from the runner to a target's child process. */
export type ParentMessage = { readonly type: 'counters'; readonly id: number }
