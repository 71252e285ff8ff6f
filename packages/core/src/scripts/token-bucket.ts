/**
 * The token-bucket check as one Redis Lua script: one round trip, atomic, on the Redis clock.
 *
 * One call carries a batch of checks; a check covers one or more buckets (one per policy of a
 * request) and is all or nothing. Mirrors `applyCheck` in bucket.ts.
 *
 *   KEYS   every distinct bucket key of the batch, once each
 *   ARGV   1      deadline: Redis time (µs since the epoch) after which the batch must not run,
 *                 because its requests were already answered without it; 0 for none
 *          2      P, the number of distinct bucket shapes, then P triples:
 *                   interval  whole nanoseconds to refill one token (≥ 1)
 *                   capacity  whole tokens (≥ 1; capacity × interval < 2^22 s, ~48 days)
 *                   enforce   1, or 0 for a shadow policy (measured, never denies)
 *          then per check, in arrival order: n (its bucket count), cost (whole tokens ≥ 1; negated
 *          for a dry run, which answers as for that cost and takes nothing), then n pairs: the
 *          bucket's index into KEYS, and its shape's index (both from 1)
 *
 *   Reply: a flat array of integers: Redis TIME when the script ran (seconds, microseconds),
 *          then 1 if it ran or 0 if the deadline had passed (nothing read, nothing taken, and
 *          nothing follows); then per check, per bucket, two values:
 *            status  1 this bucket can afford the cost, 0 it cannot, 2 it never can (cost > capacity)
 *            debtNs  the bucket's exact state after the check: ns of refill short of full
 *          The caller derives admission and every header from these (bucket.ts, describeBucket).
 *
 * State: one integer per key, the bucket's "theoretical arrival time" (the instant it is full
 * again) in nanoseconds, modulo 2^23 seconds. Absolute nanoseconds do not fit the 2^53 integers
 * that Lua's doubles hold exactly; because a live key's arrival time lies within one window
 * (< 2^22 s) after now, the residue identifies it uniquely. Each distinct key is read once, the
 * batch's checks are applied to it in order (so two checks of one key see each other exactly as
 * if they ran one by one), and a key that any check took from is written once, with a TTL of
 * the time until it is full, so an idle bucket leaves nothing behind. A check that is not
 * admitted writes nothing.
 */
// The body defines no functions and allocates no table per check: on Redis 7 a closure or a
// table made on every call is a measurable share of a short script's cost.
const SCRIPT_BODY = (clock: string, lastArg: string, ttlSlackMs: number): string => `
local MOD = 8388608000000000
local HALF = 4194304000000000
local t = ${clock}
local sec, usec = tonumber(t[1]), tonumber(t[2])
local deadline = tonumber(ARGV[1])
if deadline > 0 and sec * 1000000 + usec > deadline then return { sec, usec, 0 } end
local now = (sec % 8388608) * 1000000000 + usec * 1000

local interval, capacity, enforce = {}, {}, {}
local a = 3
for p = 1, tonumber(ARGV[2]) do
  interval[p] = tonumber(ARGV[a])
  capacity[p] = tonumber(ARGV[a + 1])
  enforce[p] = ARGV[a + 2] == '1'
  a = a + 3
end

-- Each key's arrival time, read on first use (false: no key, a full bucket); the debt of every
-- key a check took from, for the one write at the end; and one check's buckets, reused.
local tat, taken = {}, {}
local ks, ps, ds, ss = {}, {}, {}, {}
local out = { sec, usec, 1 }
local o = 3
local last = ${lastArg}
while a <= last do
  local n, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local dry = cost < 0
  if dry then cost = -cost end
  a = a + 2
  local admitted = true
  for j = 1, n do
    local k, p = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
    a = a + 2
    local window = capacity[p] * interval[p]
    local v = tat[k]
    if v == nil then
      local stored = redis.call('GET', KEYS[k])
      v = stored and (tonumber(stored) or 0) or false
      tat[k] = v
    end
    local d = 0
    if v then
      d = v - now
      if d < 0 then d = d + MOD end
      if d >= HALF then d = 0 elseif d > window then d = window end
    end
    local s = 0
    if cost > capacity[p] then s = 2 elseif d + cost * interval[p] <= window then s = 1 end
    if enforce[p] and s ~= 1 then admitted = false end
    ks[j], ps[j], ds[j], ss[j] = k, p, d, s
  end
  for j = 1, n do
    local d = ds[j]
    if admitted and not dry and ss[j] == 1 then
      d = d + cost * interval[ps[j]]
      local v = now + d
      if v >= MOD then v = v - MOD end
      tat[ks[j]] = v
      taken[ks[j]] = d
    end
    out[o + 1] = ss[j]
    out[o + 2] = d
    o = o + 2
  end
end

-- The TTL is the time until full, in whole ms rounded up (exact: d < 2^52), plus the slack.
for k, d in pairs(taken) do
  redis.call('SET', KEYS[k], string.format('%.0f', tat[k]), 'PX', math.floor((d + 999999) / 1000000) + ${ttlSlackMs})
end
return out
`

export const TOKEN_BUCKET_LUA = SCRIPT_BODY("redis.call('TIME')", '#ARGV', 0)

/**
 * The same script with the clock taken from its last two ARGV (seconds, microseconds) instead of
 * `TIME`, for tests that must control time to compare the script with a reference model. Keys
 * live an hour longer than needed, so real-time expiry never interferes with the simulated
 * clock (and the script's own handling of a stale arrival time is what gets tested). Never used
 * by the stores.
 */
export const TOKEN_BUCKET_LUA_TEST_CLOCK = SCRIPT_BODY('{ ARGV[#ARGV - 1], ARGV[#ARGV] }', '#ARGV - 2', 3_600_000)

/** The largest window (capacity × interval, in ns) the script's modular clock can represent, exclusive. */
export const MAX_WINDOW_NS = 4_194_304_000_000_000

/**
 * The name under which the script is registered on an ioredis client with `defineCommand`. It
 * carries the script's version: two versions of Sluice on one client never share a script whose
 * arguments they read differently.
 */
export const TOKEN_BUCKET_COMMAND = 'sluiceTokenBucketV2'
