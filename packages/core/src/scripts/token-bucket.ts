/**
 * The token-bucket check as one Redis Lua script: one round trip, atomic, on the Redis clock.
 *
 * One call carries a batch of checks; a check covers one or more buckets (one per policy of a
 * request) and is all or nothing. Mirrors `applyCheck` and `applySettle` in bucket.ts. Version 4:
 * a call is a list of operations, each with its kind in its head: a check, a dry run of one, or
 * a settle (an extra charge or a refund applied afterwards to the buckets a check took from);
 * kinds 4 to 6 take, renew and release in-flight slots (leases in a sorted set per client and policy). The arguments and the reply are packed (wire.ts
 * encodes and decodes them), and a call of one operation on one bucket, the usual call when
 * Redis keeps up, has a layout and a path of its own: four arguments, two integers back, no
 * table made but the reply.
 *
 *   KEYS   every distinct bucket key of the batch, once each (K of them)
 *   ARGV   1      deadline: Redis time (µs since the epoch) after which the batch must not run,
 *                 because its requests were already answered without it; 0 for none
 *          One operation on one bucket (exactly four ARGV):
 *          2, 3   the bucket's shape: interval, capacity (as below)
 *          4      the check's head (as below)
 *          Any batch (six ARGV or more):
 *          2      P, the number of distinct bucket shapes, then P pairs:
 *                   interval  whole nanoseconds to refill one token (≥ 1)
 *                   capacity  whole tokens (≥ 1; capacity × interval < 2^21 s, ~24 days, so
 *                             a debt of up to two windows stays inside half the clock's range),
 *                             negated for a shadow policy (measured, never denies)
 *          then per operation, in arrival order: its head, magnitude × 256 + kind × 32 + n
 *          (n its bucket count, 1 to 31; magnitude whole tokens, 1 to 2^45 − 1), then n
 *          references, one per bucket: (shape − 1) × K + key, both indexes from 1. Kinds:
 *            0  check: take `magnitude` (the cost) from every bucket, all or nothing
 *            1  dry run: answer as a check of that cost would, take nothing
 *            2  settle, extra charge: add `magnitude` tokens of debt to every bucket, admission
 *               or not, up to two windows (a bucket owes at most its capacity below empty)
 *            3  settle, refund: give `magnitude` tokens back to every bucket, never above full;
 *               a missing key (a full bucket) is left alone, and a bucket back to full deleted
 *            4  a check that also takes in-flight slots, all or nothing with its buckets: as
 *               kind 0 (n may be 0), then m, then m × (key index, limit, leaseMs, lease id).
 *               Each slot set is pruned of expired leases first (so a refused check may still
 *               write: the pruning), then fits if it holds fewer than limit; if every bucket and
 *               slot fits, each set gets the lease id, scored by its expiry in Redis µs (TIME +
 *               leaseMs), and PEXPIRE leaseMs + slack
 *            5  renew n leases for `magnitude` ms: n × (key index, lease id); only a live lease
 *               (score > TIME) is extended (and its set's PEXPIRE); an expired one is removed,
 *               never resurrected
 *            6  release n leases: n × (key index, lease id), removed (an emptied set is deleted)
 *            7  reserved; the script answers an error
 *
 *   Reply: a flat array of integers: Redis TIME when the script ran (µs since the epoch), alone
 *          if the deadline had passed (nothing read, nothing taken); else followed, per check
 *          and bucket, by the bucket's exact state after the check, as debtNs (ns of refill
 *          short of full, at most two windows) if it can afford the cost, −1 − debtNs if it
 *          cannot (a settle always answers its debt after). A cost above the capacity (a bucket
 *          that never can) reads as cannot; the caller knows both numbers.
 *          The caller derives admission and every header from these (bucket.ts, describeBucket).
 *          A kind 4 check then answers per slot the live leases before it, as live if one was
 *          free, −1 − live if not; kinds 5 and 6 answer 1 per lease that was live, else 0.
 *
 * State: one integer per key, the bucket's "theoretical arrival time" (the instant it is full
 * again) in nanoseconds, modulo 2^23 seconds: the same as versions 2 and 3, so buckets carry
 * over an upgrade. Absolute nanoseconds do not fit the 2^53 integers that Lua's doubles hold
 * exactly; because a live key's arrival time lies within two windows (< 2^22 s) after now, the
 * residue identifies it uniquely; a read clamps a debt to two windows. Each distinct key is
 * read once, the batch's operations are applied to it in order (so two checks of one key see
 * each other exactly as if they ran one by one), and a key that any check took from is written once, with a TTL of the time until it
 * is full, so an idle bucket leaves nothing behind (a refund back to full deletes it: never
 * `PX 0`). A check that is not admitted writes nothing.
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
  -- One operation on one bucket: interval, capacity and head follow the deadline; no table is
  -- made but the reply. (The general layout has at least six arguments.)
  local interval, capacity, head = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
  if capacity < 0 then capacity = -capacity end
  local low = head % 256
  local kind = (low - low % 32) / 32
  local cost = (head - low) / 256
  local need = cost * interval
  local window = capacity * interval
  local v
  if kind >= 2 then
    if kind > 3 then return redis.error_reply('sluice: unknown operation kind ' .. kind) end
    v = redis.call('GET', KEYS[1])
    -- A refund of a full bucket gives nothing back, and writes nothing.
    if not v and kind == 3 then return { timeUs, 0 } end
    local d = 0
    if v then
      d = (tonumber(v) or 0) - now
      if d < 0 then d = d + MOD end
      if d >= HALF then d = 0 elseif d > 2 * window then d = 2 * window end
    end
    if kind == 2 then
      d = d + need
      if d > 2 * window then d = 2 * window end
    else
      d = d - need
      if d < 0 then d = 0 end
    end
    if d == 0 then
      redis.call('DEL', KEYS[1])
    else
      v = now + d
      if v >= MOD then v = v - MOD end
      redis.call('SET', KEYS[1], v, 'PX', math.floor((d + 999999) / 1000000) + ${ttlSlackMs})
    end
    return { timeUs, d }
  end
  local dry = kind == 1
  if dry or cost > capacity then
    v = redis.call('GET', KEYS[1])
  else
    local full = now + need
    if full >= MOD then full = full - MOD end
    v = redis.call('SET', KEYS[1], full, 'NX', 'GET', 'PX', math.floor((need + 999999) / 1000000) + ${ttlSlackMs})
    if not v then return { timeUs, need } end
  end
  local d = 0
  if v then
    d = (tonumber(v) or 0) - now
    if d < 0 then d = d + MOD end
    if d >= HALF then d = 0 elseif d > 2 * window then d = 2 * window end
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
  local low = head % 256
  local n = low % 32
  local kind = (low - n) / 32
  local dry = kind == 1
  local cost = (head - low) / 256
  a = a + 1
  if kind >= 5 then
    if kind > 6 then return redis.error_reply('sluice: unknown operation kind ' .. kind) end
    -- Renew (5, for magnitude ms) or release (6) n leases: only a live one; an expired one is
    -- pruned, never resurrected. 1 if it was live, else 0.
    for j = 1, n do
      local key, id = KEYS[tonumber(ARGV[a])], ARGV[a + 1]
      a = a + 2
      local score = redis.call('ZSCORE', key, id)
      local v = 0
      if score then
        if tonumber(score) > timeUs then v = 1 end
        if kind == 5 and v == 1 then
          redis.call('ZADD', key, 'XX', timeUs + cost * 1000, id)
          redis.call('PEXPIRE', key, cost + ${leaseSlackMs})
        else
          redis.call('ZREM', key, id)
        end
      end
      o = o + 1
      out[o] = v
    end
  elseif kind >= 2 and kind <= 3 then
    -- A settle: every bucket, admission or not, its debt moved and clamped to [0, 2 windows].
    for j = 1, n do
      local ref = tonumber(ARGV[a]) - 1
      a = a + 1
      local s = ref % K
      local k = s + 1
      s = 1 + 2 * (ref - s) / K
      local interval, capacity = tonumber(ARGV[s + 2]), tonumber(ARGV[s + 3])
      if capacity < 0 then capacity = -capacity end
      local most = 2 * capacity * interval
      local v = tat[k]
      local d = 0
      if v then
        d = v - now
        if d < 0 then d = d + MOD end
        if d >= HALF then d = 0 elseif d > most then d = most end
      end
      if kind == 2 then
        d = d + cost * interval
        if d > most then d = most end
        v = now + d
        if v >= MOD then v = v - MOD end
        tat[k] = v
        taken[k] = d
      elseif v then
        d = d - cost * interval
        if d <= 0 then
          d = 0
          tat[k] = false
          taken[k] = 0
        else
          v = now + d
          if v >= MOD then v = v - MOD end
          tat[k] = v
          taken[k] = d
        end
      end
      o = o + 1
      out[o] = d
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
      if d >= HALF then d = 0 elseif d > 2 * window then d = 2 * window end
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
        if d >= HALF then d = 0 elseif d > 2 * window then d = 2 * window end
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

-- The TTL is the time until full, in whole ms rounded up (exact: d < 2^52), plus the slack; a
-- bucket a refund left full is deleted.
for k, d in pairs(taken) do
  if d == 0 then
    redis.call('DEL', KEYS[k])
  else
    redis.call('SET', KEYS[k], tat[k], 'PX', math.floor((d + 999999) / 1000000) + ${ttlSlackMs})
  end
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

/**
 * The largest window (capacity × interval, in ns), exclusive: 2^21 s, so that a debt of two
 * windows (a bucket settled to its capacity below empty) stays within half the modular clock.
 */
export const MAX_WINDOW_NS = 2_097_152_000_000_000

/**
 * The name under which the script is registered on an ioredis client with `defineCommand`. It
 * carries the script's version: two versions of Sluice on one client never share a script whose
 * arguments they read differently.
 */
export const TOKEN_BUCKET_COMMAND = 'sluiceTokenBucketV4'
