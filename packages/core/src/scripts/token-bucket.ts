/**
 * The token-bucket check as one Redis Lua script: one round trip, atomic, on the Redis clock.
 *
 *   KEYS[i]       the bucket key of check i, for i = 1..n (one or more checks per call)
 *   ARGV[3i - 2]  interval: whole nanoseconds to refill one token (1 ≤ interval)
 *   ARGV[3i - 1]  capacity: whole tokens (1 ≤ capacity; capacity × interval ≤ 2^22 s, ~48 days)
 *   ARGV[3i]      cost: whole tokens this request takes (1 ≤ cost)
 *
 *   Reply: a flat array of 6n integers, six per check, in KEYS order:
 *     status        1 allowed, 0 denied, 2 cost exceeds capacity (can never succeed)
 *     remaining     floor(tokens) after the check
 *     retryAfterMs  ms until `cost` tokens are available (0 when allowed, -1 for status 2)
 *     resetMs       ms until the bucket is full again
 *     nextTokenMs   ms until the next whole token (0 while remaining > 0)
 *     debtNs        the bucket's exact state after the check: ns of refill short of full
 *
 * State: one integer per key, the bucket's "theoretical arrival time" (the instant it is full
 * again) in nanoseconds, modulo 2^23 seconds. Absolute nanoseconds do not fit the 2^53 integers
 * that Lua's doubles hold exactly; because a live key's arrival time lies within one window
 * (≤ 2^22 s) after now, the residue identifies it uniquely. A key's TTL is the time until it is
 * full, so an idle bucket leaves nothing behind. Denied checks write nothing.
 *
 * The checks of one call run in order, so two checks of the same key see each other. Mirrors
 * `takeTokens` in bucket.ts.
 */
const SCRIPT_BODY = (clock: string, ttlSlackMs: number): string => `
local MOD = 8388608000000000
local HALF = 4194304000000000
local t = ${clock}
local now = (tonumber(t[1]) % 8388608) * 1000000000 + tonumber(t[2]) * 1000

local function fdiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end
local function ceilms(ns) return fdiv(ns + 999999, 1000000) end

local out = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[3 * i - 2])
  local capacity = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local window = capacity * interval
  local debt = 0
  local stored = redis.call('GET', KEYS[i])
  if stored then
    debt = (tonumber(stored) or 0) - now
    if debt < 0 then debt = debt + MOD end
    if debt >= HALF then debt = 0 elseif debt > window then debt = window end
  end
  local status, retry = 0, 0
  if cost > capacity then
    status, retry = 2, -1
  elseif debt + cost * interval <= window then
    status = 1
    debt = debt + cost * interval
    local tat = now + debt
    if tat >= MOD then tat = tat - MOD end
    redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', string.format('%.0f', ceilms(debt) + ${ttlSlackMs}))
  else
    retry = ceilms(debt + cost * interval - window)
  end
  local remaining = fdiv(window - debt, interval)
  local nextToken = 0
  if remaining <= 0 then nextToken = ceilms(debt + interval - window) end
  local n = #out
  out[n + 1] = status
  out[n + 2] = remaining
  out[n + 3] = retry
  out[n + 4] = ceilms(debt)
  out[n + 5] = nextToken
  out[n + 6] = debt
end
return out
`

export const TOKEN_BUCKET_LUA = SCRIPT_BODY("redis.call('TIME')", 0)

/**
 * The same script with the clock taken from its last two ARGV (seconds, microseconds) instead of
 * `TIME`, for tests that must control time to compare the script with a reference model. Keys
 * live an hour longer than needed, so real-time expiry never interferes with the simulated
 * clock (and the script's own handling of a stale arrival time is what gets tested). Never used
 * by the stores.
 */
export const TOKEN_BUCKET_LUA_TEST_CLOCK = SCRIPT_BODY('{ ARGV[#ARGV - 1], ARGV[#ARGV] }', 3_600_000)

/** The largest window (capacity × interval, in ns) the script's modular clock can represent. */
export const MAX_WINDOW_NS = 4_194_304_000_000_000

/** The name under which the script is registered on an ioredis client with `defineCommand`. */
export const TOKEN_BUCKET_COMMAND = 'sluiceTokenBucket'

export const REPLY_WIDTH = 6
