import type { BucketPolicy, CheckRequest } from '../types.js'

/**
 * The previous token-bucket script (sluiceTokenBucketV2) and its encoder, frozen as they shipped.
 * Never used by the stores: kept so the script-cost benchmark measures the current script
 * against it in one run, and so a test can write buckets with it and read them with the
 * current one (the stored format is the same: one integer per key, its arrival time in ns
 * modulo 2^23 s). Its reply: Redis TIME (seconds, µs), 1 if it ran, then per check and bucket
 * a status (1 can afford, 0 cannot, 2 never can) and the debt in ns after the check.
 */
export const TOKEN_BUCKET_V2_COMMAND = 'sluiceTokenBucketV2'

const V2_BODY = (clock: string, lastArg: string, ttlSlackMs: number): string => `
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

export const TOKEN_BUCKET_V2_LUA = V2_BODY("redis.call('TIME')", '#ARGV', 0)

/** The previous layout of KEYS and ARGV (see git history of token-bucket.ts for the layout). */
export function encodeBatchV2(checks: readonly CheckRequest[], deadlineUs: number): { keys: string[]; args: number[] } {
  const keys: string[] = []
  const keyIndex = new Map<string, number>()
  const shapes: BucketPolicy[] = []
  const shapeIndex = new Map<BucketPolicy, number>()
  const body: number[] = []
  for (const check of checks) {
    // A dry run travels as a negative cost: the script answers as for that cost and takes nothing.
    body.push(check.keys.length, check.dryRun === true ? -check.cost : check.cost)
    for (let i = 0; i < check.keys.length; i++) {
      const key = check.keys[i]!
      let k = keyIndex.get(key)
      if (k === undefined) {
        k = keys.push(key)
        keyIndex.set(key, k)
      }
      // Shapes are the limiter's frozen policy objects: identity finds the common case, and an
      // equal shape under another object only costs three more numbers.
      const policy = check.policies[i]!
      let p = shapeIndex.get(policy)
      if (p === undefined) {
        p = shapes.push(policy)
        shapeIndex.set(policy, p)
      }
      body.push(k, p)
    }
  }
  const args: number[] = [deadlineUs, shapes.length]
  for (const shape of shapes) args.push(shape.intervalNs, shape.capacity, shape.shadow ? 0 : 1)
  for (const value of body) args.push(value)
  return { keys, args }
}
