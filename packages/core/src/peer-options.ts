import { ErrorCodes, SluiceOptionError } from './errors.js'
import { REFILL_UNITS } from './refill.js'
import { unknownOption } from './validate.js'

/**
 * The options of @fastify/rate-limit and express-rate-limit that Sluice does not read, each with
 * what to write instead (or why there is nothing to write). Where a policy is written (the
 * limiter, a route, a policy in a list), such a name gets this advice instead of a bare
 * "unknown option", and a window and a limit the user gave are turned into a `refill`. Names
 * Sluice has adopted (`allowList`, `global`, `skip`, `store`, `redis`, `hook`, `ipv6Subnet`) are not
 * here.
 */

/** The migration page, which every peer-option error points at. */
export const MIGRATION_URL = 'https://github.com/sluice-dev/sluice/blob/main/docs/migration.md'

const FASTIFY = "@fastify/rate-limit's"
const EXPRESS = "express-rate-limit's"
const BOTH = "@fastify/rate-limit's and express-rate-limit's"
/** Both peers' window when none is given: one minute. */
const PEER_DEFAULT_WINDOW_SECONDS = 60

type Input = Record<string, unknown>

interface PeerOption {
  /** Whose option it is. */
  readonly of: string
  /** What to write in Sluice, computed from what was given where it can be. */
  advice(input: Input): string
}

const noRefund = 'none: a request takes its tokens before the handler runs, and they are never given back'
const observer = (): string => "use `observer: { decision(event) }` (a refused request's `event.decision.outcome` is 'denied')"

const PEER_OPTIONS: Readonly<Record<string, PeerOption>> = {
  max: { of: BOTH, advice: windowAdvice },
  limit: { of: EXPRESS, advice: windowAdvice },
  timeWindow: { of: FASTIFY, advice: windowAdvice },
  windowMs: { of: EXPRESS, advice: windowAdvice },
  keyGenerator: { of: BOTH, advice: () => "use `key`: 'ip' (the default), { header: 'x-api-key', verify } or (request) => string" },
  errorResponseBuilder: {
    of: FASTIFY,
    advice: () => 'use `denyBody: (result, request) => body` (note the order of its arguments); Sluice sets the status and headers',
  },
  handler: {
    of: EXPRESS,
    advice: () => 'use `denyBody: (result, req) => body` for the body of a refusal; Sluice sets the status and headers',
  },
  message: {
    of: EXPRESS,
    advice: (input) =>
      typeof input.message === 'string'
        ? `use \`denyBody: () => ${JSON.stringify(input.message).slice(0, 80)}\``
        : 'use `denyBody: () => body` (an object is sent as JSON, a string as text)',
  },
  statusCode: { of: EXPRESS, advice: () => 'none: a refusal is a 429 (a 403 for a cost no bucket can hold); `denyBody` shapes its body' },
  standardHeaders: { of: EXPRESS, advice: headersAdvice },
  legacyHeaders: { of: EXPRESS, advice: headersAdvice },
  draft_polli_ratelimit_headers: { of: EXPRESS, advice: headersAdvice },
  enableDraftSpec: { of: FASTIFY, advice: headersAdvice },
  addHeaders: { of: FASTIFY, advice: headersAdvice },
  addHeadersOnExceeding: { of: FASTIFY, advice: headersAdvice },
  whitelist: { of: FASTIFY, advice: () => 'use `allowList` (IPs and CIDR ranges, or a function of the request)' },
  skipOnError: { of: FASTIFY, advice: (input) => failureAdvice(input.skipOnError) },
  passOnStoreError: { of: EXPRESS, advice: (input) => failureAdvice(input.passOnStoreError) },
  cache: {
    of: FASTIFY,
    advice: (input) =>
      `use \`memoryMaxKeys${typeof input.cache === 'number' ? `: ${input.cache}` : ''}\` (the most buckets kept in memory)`,
  },
  nameSpace: {
    of: FASTIFY,
    advice: (input) => `use \`prefix${typeof input.nameSpace === 'string' ? `: ${JSON.stringify(input.nameSpace)}` : ''}\``,
  },
  groupId: {
    of: FASTIFY,
    advice: () =>
      "none: routes with no policy of their own share the limiter's buckets; a group of routes with a limit of its own is a limiter of its own (its own `name` or `prefix`)",
  },
  ban: { of: FASTIFY, advice: () => 'none: Sluice does not ban; a client past its limit is refused until its bucket refills' },
  onBanReach: { of: FASTIFY, advice: () => 'none: Sluice does not ban; a client past its limit is refused until its bucket refills' },
  continueExceeding: {
    of: FASTIFY,
    advice: () => 'none: a refused request takes no tokens, so a client is let in again as soon as its bucket refills',
  },
  exponentialBackoff: {
    of: FASTIFY,
    advice: () => 'none: a refused request takes no tokens, so a client is let in again as soon as its bucket refills',
  },
  onExceeding: { of: FASTIFY, advice: observer },
  onExceeded: { of: FASTIFY, advice: observer },
  onLimitReached: { of: EXPRESS, advice: observer },
  skipFailedRequests: { of: EXPRESS, advice: () => noRefund },
  skipSuccessfulRequests: { of: EXPRESS, advice: () => noRefund },
  requestWasSuccessful: { of: EXPRESS, advice: () => noRefund },
  identifier: { of: EXPRESS, advice: () => "use `name` (the policy's name in `RateLimit-Policy` and in its Redis keys)" },
  requestPropertyName: { of: EXPRESS, advice: () => 'none: the result is always `request.rateLimit` (`req.rateLimit` with Express)' },
  validate: {
    of: EXPRESS,
    advice: () => 'none: Sluice checks every option at registration and logs coded warnings (`SLUICE_*`) through `logger`',
  },
}

/** The peers' names Sluice answers with advice (for tests and the migration page). */
export const PEER_OPTION_NAMES: readonly string[] = Object.freeze(Object.keys(PEER_OPTIONS))

/**
 * `assertKnownOptions` where a policy is written: a peer's option name is an
 * `ERR_SLUICE_UNKNOWN_OPTION` that says what to write instead and points at the migration page.
 */
export function assertKnownPolicyOptions(input: Input, known: readonly string[], path = ''): void {
  for (const name of Object.keys(input)) {
    if (known.includes(name)) continue
    const peer = Object.hasOwn(PEER_OPTIONS, name) ? PEER_OPTIONS[name]! : undefined
    if (peer === undefined) throw unknownOption(input, name, known, path)
    throw new SluiceOptionError(
      ErrorCodes.UNKNOWN_OPTION,
      `${path}${name}`,
      input[name],
      `\`${name}\` is ${peer.of} option, not Sluice's: ${peer.advice(input)}`,
      `See ${MIGRATION_URL}`,
    )
  }
}

/**
 * `max: 100, timeWindow: '1 minute'` (or `limit`/`max` with `windowMs`) as a policy: a bucket
 * of the limit that refills the limit every window.
 */
function windowAdvice(input: Input): string {
  const limit = input.max ?? input.limit
  const window = input.timeWindow ?? input.windowMs
  if (typeof limit === 'function') {
    return 'a limit computed per request is `tiers` and `tier` (each plan its own policies), or a `cost` per request'
  }
  const seconds = window === undefined ? PEER_DEFAULT_WINDOW_SECONDS : peerWindowSeconds(window)
  if (seconds === undefined) {
    return "use `capacity: <limit>, refill: '<limit>/<period>'`, such as `capacity: 100, refill: '100/min'` (units s, min, h, day)"
  }
  const assumed = window === undefined ? " (the peers' default window is one minute)" : ''
  const bucket = 'a bucket that holds the limit and refills it every window'
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    const period = formatPeriod(seconds)
    return period === undefined
      ? `use \`capacity: <limit>, refillPerSecond: <limit> / ${seconds}\`: ${bucket}`
      : `use \`capacity: <limit>, refill: '<limit>/${period}'\`: ${bucket}`
  }
  const period = formatPeriod(seconds)
  const rate = period === undefined ? `refillPerSecond: ${limit} / ${seconds}` : `refill: '${limit}/${period}'`
  return `use \`capacity: ${limit}, ${rate}\`: ${bucket}${assumed}`
}

/**
 * A window as the peers write it, in seconds: milliseconds as a number (`windowMs: 60_000`,
 * `timeWindow: 60000`) or a string such as `'1 minute'`, `'15m'`, `'2 hours'` (@fastify/rate-limit
 * parses `timeWindow` strings with @lukeed/ms, whose units these are). Undefined when it is neither.
 */
export function peerWindowSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value / 1000 : undefined
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value) : null
  if (match === null) return undefined
  const unit = PEER_UNITS.find(([names]) => names.includes(match[2]!.toLowerCase()))
  const ms = unit === undefined ? 0 : Number(match[1]) * unit[1]
  return ms > 0 ? ms / 1000 : undefined
}

const PEER_UNITS: readonly (readonly [readonly string[], number])[] = [
  [['', 'ms', 'msec', 'msecs', 'millisecond', 'milliseconds'], 1],
  [['s', 'sec', 'secs', 'second', 'seconds'], 1_000],
  [['m', 'min', 'mins', 'minute', 'minutes'], 60_000],
  [['h', 'hr', 'hrs', 'hour', 'hours'], 3_600_000],
  [['d', 'day', 'days'], 86_400_000],
  [['w', 'wk', 'wks', 'week', 'weeks'], 604_800_000],
]

/**
 * A window as `refill`'s period, in the largest unit that divides it (`'min'`, `'15min'`,
 * `'day'`); undefined when it is not a whole number of seconds.
 */
export function formatPeriod(seconds: number): string | undefined {
  if (!Number.isInteger(seconds) || seconds < 1) return undefined
  for (const unit of ['day', 'h', 'min', 's'] as const) {
    const size = REFILL_UNITS[unit]
    if (seconds % size === 0) return seconds === size ? unit : `${seconds / size}${unit}`
  }
  return undefined
}

function headersAdvice(input: Input): string {
  const choices = "use `headers: 'all' | 'ietf' | 'legacy' | 'none'` (`'ietf'`: RateLimit and RateLimit-Policy; `'legacy'`: X-RateLimit-*)"
  const standard = input.standardHeaders ?? input.draft_polli_ratelimit_headers
  if (standard !== undefined && input.legacyHeaders !== undefined) {
    const ietf = standard !== false
    const legacy = input.legacyHeaders !== false
    return `use \`headers: '${ietf ? (legacy ? 'all' : 'ietf') : legacy ? 'legacy' : 'none'}'\``
  }
  if (typeof input.enableDraftSpec === 'boolean') return `use \`headers: '${input.enableDraftSpec ? 'ietf' : 'legacy'}'\``
  return choices
}

function failureAdvice(value: unknown): string {
  return value === false
    ? "use `failureMode: 'deny'` (refuse with 503 while the store fails) or the default `'local'` (limit in this process)"
    : "use `failureMode: 'allow'` (admit while the store fails) or the default `'local'` (limit in this process)"
}
