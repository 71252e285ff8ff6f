import type { CheckRequest } from '../types.js'

/**
 * Version 3 of the token-bucket script, frozen: the stored-format upgrade test runs it beside
 * the current one, so buckets written by an app still on version 3 are proven to answer exactly
 * under version 4 (and the other way round) during a rolling upgrade. Never used by the stores.
 * Its head was cost × 64 + dry × 32 + n; `encodeBatchV3` sends any batch in its general layout.
 */
const SCRIPT_BODY_V3 = (clock: string, lastArg: string, ttlSlackMs: number): string => `
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
  local dry = head % 64 >= 32
  local cost = (head - head % 64) / 64
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
local out = { timeUs }
local o = 1
local a = 3 + 2 * tonumber(ARGV[2])
while a <= last do
  local head = tonumber(ARGV[a])
  local n = head % 32
  local dry = head % 64 >= 32
  local cost = (head - head % 64) / 64
  a = a + 1
  if n == 1 then
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
  end
end

-- The TTL is the time until full, in whole ms rounded up (exact: d < 2^52), plus the slack.
for k, d in pairs(taken) do
  redis.call('SET', KEYS[k], tat[k], 'PX', math.floor((d + 999999) / 1000000) + ${ttlSlackMs})
end
return out
`

export const TOKEN_BUCKET_V3_LUA = SCRIPT_BODY_V3("redis.call('TIME')", '#ARGV', 0)

/**
 * The same script with the clock taken from its last two ARGV (seconds, microseconds) instead of
 * `TIME`, for tests that must control time to compare the script with a reference model. Keys
 * live an hour longer than needed, so real-time expiry never interferes with the simulated
 * clock (and the script's own handling of a stale arrival time is what gets tested). Never used
 * by the stores.
 */

export const TOKEN_BUCKET_V3_COMMAND = 'sluiceTokenBucketV3'

/** Version 3's KEYS and ARGV for a batch of checks, in its general layout (any batch). */
export function encodeBatchV3(checks: readonly CheckRequest[], deadlineUs: number): { keys: string[]; args: number[] } {
  const keys: string[] = []
  const keyIndex = new Map<string, number>()
  const shapes = checks.flatMap((c) => c.policies)
  const refs: number[][] = checks.map((c) =>
    c.keys.map((key) => {
      let k = keyIndex.get(key)
      if (k === undefined) {
        k = keys.push(key) - 1
        keyIndex.set(key, k)
      }
      return k
    }),
  )
  const K = keys.length
  const args: number[] = [deadlineUs, shapes.length]
  for (const shape of shapes) args.push(shape.intervalNs, shape.shadow ? -shape.capacity : shape.capacity)
  let p = 0
  checks.forEach((check, c) => {
    args.push(check.cost * 64 + (check.dryRun === true ? 32 : 0) + check.keys.length)
    for (const k of refs[c]!) args.push(p++ * K + k + 1)
  })
  return { keys, args }
}
