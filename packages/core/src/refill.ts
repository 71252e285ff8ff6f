import { invalid } from './validate.js'

/**
 * A policy's refill rate, as the user wrote it: `tokens` every `seconds`. `refillPerSecond: r`
 * is `r` tokens every second; `refill: '5/15min'` is 5 tokens every 900 seconds. It stays a
 * ratio until `intervalOf` converts it, once, so `'100/min'` is 600,000,000 ns per token exactly
 * rather than the rounding of a rounded 1.666… tokens per second.
 */
export interface Rate {
  readonly tokens: number
  readonly seconds: number
}

/** Seconds in each unit `refill` accepts. */
export const REFILL_UNITS = Object.freeze({ s: 1, min: 60, h: 3_600, day: 86_400 })
const REFILL = /^(\d{1,10})\/(\d{1,7})?(s|min|h|day)$/
const MAX_RATE = 1e9
const EXAMPLE = "'<tokens>/<unit>' such as '100/min' or '5/15min' (units s, min, h, day)"

/** `refill: '100/min'` as a rate; anything else is an option error naming `option`. */
export function parseRefill(value: unknown, option: string): Rate {
  const match = typeof value === 'string' ? REFILL.exec(value) : null
  if (match === null) throw invalid(option, value, `expected ${EXAMPLE}`)
  const tokens = Number(match[1])
  const every = match[2] === undefined ? 1 : Number(match[2])
  const seconds = every * REFILL_UNITS[match[3] as keyof typeof REFILL_UNITS]
  if (tokens < 1 || every < 1) throw invalid(option, value, `expected whole numbers ≥ 1 in ${EXAMPLE}`)
  if (tokens / seconds > MAX_RATE) throw invalid(option, value, `expected at most ${MAX_RATE} tokens per second`)
  return Object.freeze({ tokens, seconds })
}

/**
 * A policy's rate from `refill` or `refillPerSecond` (exactly one of them), or `inherited` when
 * it gives neither (a route override that changes only the capacity keeps the limiter's rate).
 */
export function resolveRate(input: { refill?: unknown; refillPerSecond?: unknown }, path: string, inherited?: Rate): Rate {
  if (input.refill !== undefined) {
    if (input.refillPerSecond !== undefined) {
      throw invalid(`${path}refill`, input.refill, `expected either \`${path}refill\` or \`${path}refillPerSecond\`, not both`)
    }
    return parseRefill(input.refill, `${path}refill`)
  }
  const rate = input.refillPerSecond
  if (rate === undefined && inherited !== undefined) return inherited
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE) {
    throw invalid(
      `${path}refillPerSecond`,
      rate,
      `expected a number of tokens per second, > 0 and ≤ 1e9 (or \`${path}refill\`: ${EXAMPLE})`,
    )
  }
  return Object.freeze({ tokens: rate, seconds: 1 })
}

/** Nanoseconds per token, rounded once to a whole number (at least 1). */
export function intervalOf(rate: Rate): number {
  return Math.max(1, Math.round((rate.seconds * 1e9) / rate.tokens))
}

/** Seconds a full bucket of `capacity` takes to refill from empty, rounded up. */
export function windowOf(rate: Rate, capacity: number): number {
  return Math.ceil((capacity * rate.seconds) / rate.tokens)
}
