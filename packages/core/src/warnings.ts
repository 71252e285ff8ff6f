import { ignoreRejection } from './thenable.js'
import type { SluiceLogger } from './types.js'

/**
 * Every warning Sluice logs carries a stable code (`code` in the log object; the process-warning
 * code when no logger is given), apart from the `ERR_SLUICE_*` family of errors it throws. Each
 * message names the fix.
 */
export const WarningCodes = {
  /** The framework trusts every proxy, so clients choose their own IP (and bucket) with X-Forwarded-For. */
  PERMISSIVE_TRUST_PROXY: 'SLUICE_PERMISSIVE_TRUST_PROXY',
  /** A request had no usable client address: it was checked against the one shared `unknown` bucket. */
  UNKNOWN_IP: 'SLUICE_UNKNOWN_IP',
  /** X-Forwarded-For came from a peer the trust-proxy setting refuses: behind a proxy, every client shares the proxy's bucket. */
  UNTRUSTED_FORWARDED_FOR: 'SLUICE_UNTRUSTED_FORWARDED_FOR',
  /** Fastify routes that the limiter's hook does not reach, in a scope it was registered for. */
  UNCOVERED_ROUTES: 'SLUICE_UNCOVERED_ROUTES',
  /** API keys are read from a header but never verified: a client can open buckets with made-up keys. */
  UNVERIFIED_API_KEY: 'SLUICE_UNVERIFIED_API_KEY',
  /** The shared store failed or was slow: requests are answered by the failure mode. */
  STORE_UNAVAILABLE: 'SLUICE_STORE_UNAVAILABLE',
  /** A shadow policy would have denied a request (it was not denied). */
  SHADOW_DENIAL: 'SLUICE_SHADOW_DENIAL',
  /** An Express route override whose id does not match the route it guards. */
  ROUTE_MISMATCH: 'SLUICE_ROUTE_MISMATCH',
  /** A custom deny body threw, rejected, or could not be sent (not an object or a string, not serializable): the default body was sent instead. */
  DENY_BODY_FAILED: 'SLUICE_DENY_BODY_FAILED',
  /**
   * An in-flight slot expired while its response was still open (its renewals could not reach
   * the store within `leaseMs`): the slot may be counted free by other replicas. Raise `leaseMs`,
   * or look at why the store was out of reach.
   */
  LEASE_LOST: 'SLUICE_LEASE_LOST',
  /** A `settle` threw, rejected, or returned something other than a whole number ≥ 0 or undefined: the reservation stands. */
  SETTLE_FAILED: 'SLUICE_SETTLE_FAILED',
  /** A settle could not be applied (the store failed or was too slow): the reservation stands, and it is never retried. */
  SETTLE_DROPPED: 'SLUICE_SETTLE_DROPPED',
} as const

export type WarningCode = (typeof WarningCodes)[keyof typeof WarningCodes]

/**
 * Log a coded warning; a logger that throws, or whose `warn` returns a promise that rejects, is
 * ignored, so logging never fails a request (nor leaves an unhandled rejection behind).
 */
export function warn(logger: SluiceLogger, code: WarningCode, details: object, message: string): void {
  try {
    ignoreRejection(logger.warn({ code, ...details }, message))
  } catch {
    // A logger is a bystander, like an observer: its failure must not become the request's.
  }
}

/** Log an informational line through the logger's `info`, if it has one; like `warn`, never failing the caller. */
export function inform(logger: SluiceLogger, details: object, message: string): void {
  try {
    if (typeof logger.info === 'function') ignoreRejection(logger.info(details, message))
  } catch {
    // A bystander, as in `warn`.
  }
}

/** Warns once per instance: for misconfigurations that every request would otherwise repeat. */
export class WarnOnce {
  readonly #logger: SluiceLogger
  readonly #said = new Set<WarningCode>()

  constructor(logger: SluiceLogger) {
    this.#logger = logger
  }

  warn(code: WarningCode, details: object, message: string): void {
    if (this.#said.has(code)) return
    this.#said.add(code)
    warn(this.#logger, code, details, message)
  }
}

/**
 * Warns at most once per interval, with how many were suppressed in between: a dead Redis under
 * load must not turn into a log flood.
 */
export class WarnThrottle {
  readonly #logger: SluiceLogger
  readonly #code: WarningCode
  readonly #intervalMs: number
  readonly #clock: () => number
  #nextAt = Number.NEGATIVE_INFINITY
  #suppressed = 0

  constructor(logger: SluiceLogger, code: WarningCode, intervalMs = 10_000, clock: () => number = () => performance.now()) {
    this.#logger = logger
    this.#code = code
    this.#intervalMs = intervalMs
    this.#clock = clock
  }

  warn(details: object, message: string): void {
    const now = this.#clock()
    if (now < this.#nextAt) {
      this.#suppressed++
      return
    }
    warn(this.#logger, this.#code, { ...details, suppressed: this.#suppressed }, message)
    this.#suppressed = 0
    this.#nextAt = now + this.#intervalMs
  }
}
