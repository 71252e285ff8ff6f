/**
 * The token-bucket check as one Redis Lua script: one round trip, atomic, on the Redis clock.
 *
 * One call carries a batch of checks; a check covers one or more buckets (one per policy of a
 * request) and is all or nothing. Mirrors `applyCheck` in bucket.ts. Version 4 (version 3 with a kind in each head, and slots; see below): the arguments
 * and the reply are packed (wire.ts encodes and decodes them), and a call of one check of one
 * bucket, the usual call when Redis keeps up, has a layout and a path of its own: four
 * arguments, two integers back, no table made but the reply.
 *
 *   KEYS   every distinct bucket key of the batch, once each (K of them)
 *   ARGV   1      deadline: Redis time (µs since the epoch) after which the batch must not run,
 *                 because its requests were already answered without it; 0 for none
 *          One check of one bucket (exactly four ARGV):
 *          2, 3   the bucket's shape: interval, capacity (as below)
 *          4      the check's head (as below)
 *          Any batch (six ARGV or more):
 *          2      P, the number of distinct bucket shapes, then P pairs:
 *                   interval  whole nanoseconds to refill one token (≥ 1)
 *                   capacity  whole tokens (≥ 1; capacity × interval < 2^22 s, ~48 days),
 *                             negated for a shadow policy (measured, never denies)
 *          then per operation, in arrival order: its head, magnitude × 256 + kind × 32 + n
 *          (n a count, 0 to 31; magnitude below 2^45), then what its kind says:
 *            kind 0  a check: magnitude its cost in whole tokens, n its bucket count (≥ 1), then
 *                    n references, one per bucket: (shape − 1) × K + key, both indexes from 1
 *            kind 1  a dry run of one, which answers as for that cost and takes nothing
 *            kind 2–3  reserved (settling a cost afterwards, issue 21)
 *            kind 4  a check that also takes in-flight slots, all or nothing with its buckets:
 *                    as kind 0 (n may be 0), then m, then m × (key index, limit, leaseMs, lease
 *                    id). Each slot set is pruned of expired leases first (so a refused check
 *                    may still write: the pruning), then fits if it holds fewer than limit;
 *                    if every bucket and slot fits, each set gets the lease id, scored by its
 *                    expiry in Redis µs (TIME + leaseMs), and PEXPIRE leaseMs + slack
 *            kind 5  renew n leases, magnitude their leaseMs: n × (key index, lease id); only a
 *                    live lease (score > TIME) is extended (and its set's PEXPIRE); an expired
 *                    one is removed, never resurrected
 *            kind 6  release n leases: n × (key index, lease id), removed (a set left empty is
 *                    deleted by Redis)
 *
 *   Reply: a flat array of integers: Redis TIME when the script ran (µs since the epoch), alone
 *          if the deadline had passed (nothing read, nothing taken); else followed, per check
 *          and bucket, by the bucket's exact state after the check, as debtNs (ns of refill
 *          short of full) if it can afford the cost, −1 − debtNs if it cannot. A cost above the
 *          capacity (a bucket that never can) reads as cannot; the caller knows both numbers.
 *          The caller derives admission and every header from these (bucket.ts, describeBucket).
 *          A kind 4 check then answers per slot the live leases before it, as live if one was
 *          free, −1 − live if not; kinds 5 and 6 answer 1 per lease that was live, else 0.
 *
 * State: one integer per key, the bucket's "theoretical arrival time" (the instant it is full
 * again) in nanoseconds, modulo 2^23 seconds: the same as version 2's, so buckets carry over
 * an upgrade. Absolute nanoseconds do not fit the 2^53 integers that Lua's doubles hold
 * exactly; because a live key's arrival time lies within one window (< 2^22 s) after now, the
 * residue identifies it uniquely. Each distinct key is read once, the batch's checks are
 * applied to it in order (so two checks of one key see each other exactly as if they ran one
 * by one), and a key that any check took from is written once, with a TTL of the time until it
 * is full, so an idle bucket leaves nothing behind. A check that is not admitted writes nothing.
 * Numbers go to `redis.call` as Lua numbers: Redis writes them with %.17g (exact for integers
 * below 10^17), which costs less than a `string.format` per write.
 *
 * Commands: a call of one check of one bucket that could pay if the bucket were full (not a dry
 * run, its cost within the capacity) reads its key with `SET key <state after paying from full>
 * NX GET PX <ttl>`: no key means a full bucket, which that one command has just charged, and an
 * existing key is returned untouched and charged with a second `SET`. A new client's call is
 * then `TIME` and one `SET`. A batch reads all its keys with one `MGET` (per thousand keys) and
 * writes each key it took from with one `SET … PX`: per distinct key, a share of one command and
 * one write, where version 2 ran a `GET` and a `SET`.
 */
/** A slot set outlives its latest lease by this much, so its own expiry never removes a live lease. */
export const LEASE_SLACK_MS = 1_000

// The body defines no functions, and allocates per batch only its two key tables, MGET's reply
// and its own (and, for checks of several buckets, four scratch tables reused by all of them):
// on Redis 7 a closure or a table made on every call is a measurable share of a short script's
// cost. The call of one check of one bucket makes no table but its reply.
const SCRIPT_BODY = (clock: string, lastArg: string, ttlSlackMs: number, leaseSlackMs = ttlSlackMs + LEASE_SLACK_MS): string => `
local MOD = 8388608000000000
local HALF = 4194304000000000
local t = ${clock}
local sec, usec = tonumber(t[1]), tonumber(t[2])
local timeUs = sec * 1000000 + usec
local deadline = tonumber(ARGV[1])
if deadline > 0 and timeUs > deadline then return { timeUs } end
local now = (sec % 8388608) * 1000000000 + usec * 1000
local last = ${lastArg}

if last == 4 then
  -- One check of one bucket: interval, capacity and head follow the deadline; no table is made
  -- but the reply. (The general layout has at least six arguments.)
  local interval, capacity, head = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
  if capacity < 0 then capacity = -capacity end
  local dry = head % 256 >= 32
  local cost = (head - head % 256) / 256
  local need = cost * interval
  local v
  if dry or cost > capacity then
    v = redis.call('GET', KEYS[1])
  else
    local full = now + need
    if full >= MOD then full = full - MOD end
    v = redis.call('SET', KEYS[1], full, 'NX', 'GET', 'PX', math.floor((need + 999999) / 1000000) + ${ttlSlackMs})
    if not v then return { timeUs, need } end
  end
  local d = 0
  local window = capacity * interval
  if v then
    d = (tonumber(v) or 0) - now
    if d < 0 then d = d + MOD end
    if d >= HALF then d = 0 elseif d > window then d = window end
  end
  if cost > capacity or d + need > window then return { timeUs, -1 - d } end
  if not dry then
    d = d + need
    v = now + d
    if v >= MOD then v = v - MOD end
    redis.call('SET', KEYS[1], v, 'PX', math.floor((d + 999999) / 1000000) + ${ttlSlackMs})
  end
  return { timeUs, d }
end

local K = #KEYS
-- Each key's arrival time (false: no key, a full bucket), all read up front with MGET (one
-- command per thousand keys, which bounds the Lua stack unpack needs); the debt of every key a
-- check took from, for the one write at the end; one check's buckets, when it has several.
local tat, taken = {}, {}
local i = 1
while i <= K do
  local j = i + 999
  if j > K then j = K end
  local got = redis.call('MGET', unpack(KEYS, i, j))
  for x = i, j do
    local stored = got[x - i + 1]
    tat[x] = stored and (tonumber(stored) or 0) or false
  end
  i = j + 1
end
local ks, ds, ns, fs
local sk, sm, si, sv
local out = { timeUs }
local o = 1
local a = 3 + 2 * tonumber(ARGV[2])
while a <= last do
  local head = tonumber(ARGV[a])
  local n = head % 32
  local kind = (head % 256 - n) / 32
  local dry = kind == 1
  local cost = (head - head % 256) / 256
  a = a + 1
  if kind >= 5 then
    -- Renew (5) or release (6) n leases: only a live one; an expired one is pruned, never
    -- resurrected. 1 if it was live, else 0.
    for j = 1, n do
      local key, id = KEYS[tonumber(ARGV[a])], ARGV[a + 1]
      a = a + 2
      local score = redis.call('ZSCORE', key, id)
      local v = 0
      if score then
        if kind == 5 and tonumber(score) > timeUs then
          redis.call('ZADD', key, 'XX', timeUs + cost * 1000, id)
          redis.call('PEXPIRE', key, cost + ${leaseSlackMs})
          v = 1
        else
          if tonumber(score) > timeUs then v = 1 end
          redis.call('ZREM', key, id)
        end
      end
      o = o + 1
      out[o] = v
    end
  elseif n == 1 and kind < 4 then
    local ref = tonumber(ARGV[a]) - 1
    a = a + 1
    local s = ref % K
    local k = s + 1
    s = 1 + 2 * (ref - s) / K
    local interval, capacity = tonumber(ARGV[s + 2]), tonumber(ARGV[s + 3])
    if capacity < 0 then capacity = -capacity end
    local need = cost * interval
    local window = capacity * interval
    local v = tat[k]
    local d = 0
    if v then
      d = v - now
      if d < 0 then d = d + MOD end
      if d >= HALF then d = 0 elseif d > window then d = window end
    end
    if cost <= capacity and d + need <= window then
      if not dry then
        d = d + need
        v = now + d
        if v >= MOD then v = v - MOD end
        tat[k] = v
        taken[k] = d
      end
    else
      d = -1 - d
    end
    o = o + 1
    out[o] = d
  else
    if ks == nil then ks, ds, ns, fs = {}, {}, {}, {} end
    local admitted = true
    for j = 1, n do
      local ref = tonumber(ARGV[a]) - 1
      a = a + 1
      local s = ref % K
      local k = s + 1
      s = 1 + 2 * (ref - s) / K
      local interval, capacity = tonumber(ARGV[s + 2]), tonumber(ARGV[s + 3])
      local enforce = capacity > 0
      if not enforce then capacity = -capacity end
      local window = capacity * interval
      local v = tat[k]
      local d = 0
      if v then
        d = v - now
        if d < 0 then d = d + MOD end
        if d >= HALF then d = 0 elseif d > window then d = window end
      end
      local fits = cost <= capacity and d + cost * interval <= window
      if enforce and not fits then admitted = false end
      ks[j], ds[j], ns[j], fs[j] = k, d, cost * interval, fits
    end
    local m = 0
    if kind == 4 then
      -- Slots: prune the expired leases (a write even if the check is refused), then count.
      if sk == nil then sk, sm, si, sv = {}, {}, {}, {} end
      m = tonumber(ARGV[a])
      a = a + 1
      for j = 1, m do
        local k, limit = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
        sk[j], sm[j], si[j] = k, tonumber(ARGV[a + 2]), ARGV[a + 3]
        a = a + 4
        redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', timeUs)
        local live = redis.call('ZCARD', KEYS[k])
        if live >= limit then
          admitted = false
          live = -1 - live
        end
        sv[j] = live
      end
    end
    for j = 1, n do
      local d = ds[j]
      if fs[j] then
        if admitted and not dry then
          d = d + ns[j]
          local v = now + d
          if v >= MOD then v = v - MOD end
          tat[ks[j]] = v
          taken[ks[j]] = d
        end
      else
        d = -1 - d
      end
      o = o + 1
      out[o] = d
    end
    for j = 1, m do
      if admitted and sv[j] >= 0 then
        redis.call('ZADD', KEYS[sk[j]], timeUs + sm[j] * 1000, si[j])
        redis.call('PEXPIRE', KEYS[sk[j]], sm[j] + ${leaseSlackMs})
      end
      o = o + 1
      out[o] = sv[j]
    end
  end
end

-- The TTL is the time until full, in whole ms rounded up (exact: d < 2^52), plus the slack.
for k, d in pairs(taken) do
  redis.call('SET', KEYS[k], tat[k], 'PX', math.floor((d + 999999) / 1000000) + ${ttlSlackMs})
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
export const TOKEN_BUCKET_COMMAND = 'sluiceTokenBucketV4'
