import type { Denial, RateLimitResult } from './types.js'

/**
 * Every error Sluice throws carries a stable `code`, so callers can branch on it without parsing
 * messages (Fastify's `FST_ERR_*` convention), and option errors name the option and its value.
 */
export const ErrorCodes = {
  /** An option has a value of the wrong type or out of range. */
  INVALID_OPTION: 'ERR_SLUICE_INVALID_OPTION',
  /** An option name that Sluice does not know (usually a typo). */
  UNKNOWN_OPTION: 'ERR_SLUICE_UNKNOWN_OPTION',
  /** The store did not answer within its time budget (`timeoutMs`). */
  STORE_TIMEOUT: 'ERR_SLUICE_STORE_TIMEOUT',
  /** The store's client is not connected (it is reconnecting, or closed): the check was not sent. */
  STORE_UNAVAILABLE: 'ERR_SLUICE_STORE_UNAVAILABLE',
  /** A request function (`key`, `verify`, `cost`, …) returned something it must not: a server bug, answered 500. */
  INVALID_REQUEST_VALUE: 'ERR_SLUICE_INVALID_REQUEST_VALUE',
  /** A request function (`key`, `verify`, `cost`, …) threw: a server bug, answered 500. */
  REQUEST_FUNCTION_FAILED: 'ERR_SLUICE_REQUEST_FUNCTION_FAILED',
  /** A method was called with an argument it cannot use (an operator's reset or peek, a manual check). */
  INVALID_ARGUMENT: 'ERR_SLUICE_INVALID_ARGUMENT',
  /** A second Sluice plugin in a Fastify scope that has one: `fastify.sluice` and every route would be ambiguous. */
  ALREADY_REGISTERED: 'ERR_SLUICE_ALREADY_REGISTERED',
  /** `settle(result, actualCost)` on a result that was already settled (by hand or by the `settle` option). */
  ALREADY_SETTLED: 'ERR_SLUICE_ALREADY_SETTLED',
  /** The store answered something that is not a token-bucket reply. */
  STORE_REPLY: 'ERR_SLUICE_STORE_REPLY',
  /** With `onDeny: 'error'`: a request the limiter refused (429, 403, 401 or 503), for the app's error handler. */
  DENIED: 'ERR_SLUICE_DENIED',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export class SluiceError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'SluiceError'
    this.code = code
  }
}

/**
 * Thrown at registration when an option is invalid; `option` is its dotted path. `help`, when
 * given, ends the message (where to read more).
 */
export class SluiceOptionError extends SluiceError {
  readonly option: string
  readonly value: unknown

  constructor(code: ErrorCode, option: string, value: unknown, expected: string, help?: string) {
    super(code, `@sluice: invalid option \`${option}\`: ${expected}, got ${describe(value)}${help === undefined ? '' : `. ${help}`}`)
    this.name = 'SluiceOptionError'
    this.option = option
    this.value = value
  }
}

/**
 * A request that Sluice cannot check because the app's own code failed for it (a request
 * function threw or returned nonsense): a 500 for that request only, never a free pass.
 * `statusCode` is what Fastify and Express answer with.
 */
export class SluiceRequestError extends SluiceError {
  readonly statusCode = 500
  /** The request function that failed: `key`, `key.verify`, `cost`, … */
  readonly option: string

  constructor(code: ErrorCode, option: string, message: string, options?: ErrorOptions) {
    super(code, message, options)
    this.name = 'SluiceRequestError'
    this.option = option
  }
}

const STATUS_TITLES: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
}

/**
 * A refusal handed to the app's error handler (`onDeny: 'error'`: Fastify's `setErrorHandler`,
 * Express's error middleware) instead of sent: the quota headers are already set on the response,
 * `statusCode` is the status Sluice would have sent (both frameworks' default handlers use it),
 * `result` is where the client stands (undefined for a missing API key or the `deny` failure
 * mode), and `denial` is the body Sluice would have sent, serialized, for a handler that keeps it.
 */
export class SluiceDeniedError extends SluiceError {
  readonly statusCode: number
  readonly result: RateLimitResult | undefined
  readonly denial: Denial

  constructor(denial: Denial, result: RateLimitResult | undefined) {
    super(ErrorCodes.DENIED, `@sluice: ${denial.status} ${STATUS_TITLES[denial.status] ?? 'denied'}`)
    this.name = 'SluiceDeniedError'
    this.statusCode = denial.status
    this.result = result
    this.denial = denial
  }
}

/** Where a store call was when its deadline passed. */
export type Refusal = 'queued' | 'sent' | 'late'

const REFUSALS: Readonly<Record<Refusal, string>> = {
  queued: 'was still waiting to be sent when its deadline passed; it was not sent',
  sent: 'was sent and not answered by its deadline',
  late: 'reached Redis after its deadline; it took nothing',
}

/**
 * The one error for a store call its deadline refused (ERR_SLUICE_STORE_TIMEOUT): still queued
 * (in the batcher, or waiting for a ready client and a known clock), sent and not answered in
 * time, or answered by a script that arrived late and so ran nothing.
 */
export function refused(stage: Refusal): SluiceError {
  return new SluiceError(ErrorCodes.STORE_TIMEOUT, `@sluice: the store call ${REFUSALS[stage]} (${stage})`)
}

/** What a thrown value says, for a warning: user code may throw anything, even what `String()` refuses. */
export function failureText(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error)
  } catch {
    return 'a value that cannot be printed'
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  return 'an object'
}
