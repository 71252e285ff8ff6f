/**
 * The token-bucket check as one Redis Lua script: one round trip, atomic, on the Redis clock.
 *
 * One call carries one or more checks; a check covers one or more buckets (one per policy of a
 * request) and is all or nothing. Mirrors `applyCheck` in bucket.ts.
 *
 *   KEYS          every bucket key of every check, in order
 *   ARGV          per check: n (its bucket count), then per bucket four values:
 *                   interval  whole nanoseconds to refill one token (≥ 1)
 *                   capacity  whole tokens (≥ 1; capacity × interval ≤ 2^22 s, ~48 days)
 *                   cost      whole tokens this request takes (≥ 1)
 *                   enforce   1, or 0 for a shadow policy (measured, never denies)
 *
 *   Reply: a flat array of integers, per check: admitted (1 or 0), then six per bucket:
 *     status        1 this bucket can afford the cost, 0 it cannot, 2 it never can (cost > capacity)
 *     taken         1 when this bucket paid (admitted and affordable)
 *     remaining     floor(tokens) after the check
 *     retryAfterMs  ms until `cost` tokens are available (0 when affordable, -1 for status 2)
 *     resetMs       ms until the bucket is full again
 *     debtNs        the bucket's exact state after the check: ns of refill short of full
 *   (nextTokenMs follows from these: the caller computes it from debtNs.)
 *
 * State: one integer per key, the bucket's "theoretical arrival time" (the instant it is full
 * again) in nanoseconds, modulo 2^23 seconds. Absolute nanoseconds do not fit the 2^53 integers
 * that Lua's doubles hold exactly; because a live key's arrival time lies within one window
 * (≤ 2^22 s) after now, the residue identifies it uniquely. A key's TTL is the time until it is
 * full, so an idle bucket leaves nothing behind. A check that is not admitted writes nothing.
 * Checks of one call run in order, so two checks of the same key see each other.
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
local a, k = 1, 1
while k <= #KEYS do
  local n = tonumber(ARGV[a])
  a = a + 1
  local interval, capacity, cost, debt, status = {}, {}, {}, {}, {}
  local admitted = 1
  for j = 1, n do
    interval[j] = tonumber(ARGV[a])
    capacity[j] = tonumber(ARGV[a + 1])
    cost[j] = tonumber(ARGV[a + 2])
    local enforce = ARGV[a + 3] == '1'
    a = a + 4
    local window = capacity[j] * interval[j]
    local d = 0
    local stored = redis.call('GET', KEYS[k + j - 1])
    if stored then
      d = (tonumber(stored) or 0) - now
      if d < 0 then d = d + MOD end
      if d >= HALF then d = 0 elseif d > window then d = window end
    end
    debt[j] = d
    if cost[j] > capacity[j] then status[j] = 2
    elseif d + cost[j] * interval[j] <= window then status[j] = 1
    else status[j] = 0 end
    if enforce and status[j] ~= 1 then admitted = 0 end
  end
  out[#out + 1] = admitted
  for j = 1, n do
    local window = capacity[j] * interval[j]
    local d = debt[j]
    local taken, retry = 0, 0
    if admitted == 1 and status[j] == 1 then
      taken = 1
      d = d + cost[j] * interval[j]
      local tat = now + d
      if tat >= MOD then tat = tat - MOD end
      redis.call('SET', KEYS[k + j - 1], string.format('%.0f', tat), 'PX', string.format('%.0f', ceilms(d) + ${ttlSlackMs}))
    end
    if status[j] == 2 then retry = -1
    elseif status[j] == 0 then retry = ceilms(d + cost[j] * interval[j] - window) end
    out[#out + 1] = status[j]
    out[#out + 1] = taken
    out[#out + 1] = fdiv(window - d, interval[j])
    out[#out + 1] = retry
    out[#out + 1] = ceilms(d)
    out[#out + 1] = d
  end
  k = k + n
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
