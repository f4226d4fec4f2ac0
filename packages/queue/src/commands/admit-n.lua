--[[
  Admits requests under a model's queue cap, in one round trip with their rate-limit counts and
  response-cache lookups, and blocks the key of the job planned for them when not all get in.

  Input:
    KEYS[1]  admission sorted set: member '<request id>|<items>' → score (deadline + grace)
    KEYS[2]  admission counter: the members' items in all
    KEYS[3]  admission owners hash: member → owner
    KEYS[4]  admission usage hash: owner → items
    KEYS[5…] each once: the response-cache keys looked up, the rate-limit counters, the planned
             job's key (the requests below refer to them by index; 0: none)

    ARGV[1]  now (epoch ms): members scored at or before it are dropped first
    ARGV[2]  cap: the most items in flight for the model
    ARGV[3]  index in KEYS of the planned job's key (0: none)
    ARGV[4]  TTL (ms) of a placeholder at the planned job's key
    then per request, 9 values:
      items, score, member,
      index in KEYS of its cache key (0: none),
      index in KEYS of its rate-limit counter (0: none), that counter's limit, its window (ms),
      its owner ('' none), the most items one owner may hold (0: no share)

  Output: per request, 3 values:
      decision: -1 over its rate limit (nothing else done: no lookup, no admission),
                else its cached result when the lookup finds one (not admitted),
                else 1 admitted, 0 over the cap, -2 over its owner's share
      its rate-limit count, the ms left in that window (both -1 without a counter)
    then the items in flight after these decisions,
    then 1 when a request was not admitted and a placeholder now holds the planned job's key,
    else 0 (BullMQ never adds a job whose key exists; see Admission.admitMany).
]]
--- @include "includes/forgetOwner"
--- @include "includes/memberItems"

local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #expired > 0 then
  local n = 0
  for _, m in ipairs(expired) do
    local k = memberItems(m)
    n = n + k
    forgetOwner(KEYS[3], KEYS[4], m, k)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
  redis.call('DECRBY', KEYS[2], n)
end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used < 0 or redis.call('ZCARD', KEYS[1]) == 0 then
  used = 0
  redis.call('SET', KEYS[2], 0)
  redis.call('DEL', KEYS[3], KEYS[4])
end
local cap = tonumber(ARGV[2])
local out = {}
local added = 0
local refused = false
for i = 5, #ARGV, 9 do
  local items = tonumber(ARGV[i])
  local lookup = tonumber(ARGV[i + 3])
  local counter = tonumber(ARGV[i + 4])
  local owner, share = ARGV[i + 7], tonumber(ARGV[i + 8])
  local count, left, limited = -1, -1, false
  if counter > 0 then
    count = redis.call('INCR', KEYS[counter])
    left = redis.call('PTTL', KEYS[counter])
    if left < 0 then
      left = tonumber(ARGV[i + 6])
      redis.call('PEXPIRE', KEYS[counter], left)
    end
    limited = count > tonumber(ARGV[i + 5])
  end
  local cached = not limited and lookup > 0 and redis.call('GET', KEYS[lookup])
  if limited then
    out[#out + 1] = -1
  elseif cached then
    out[#out + 1] = cached
  elseif used + items > cap then
    out[#out + 1] = 0
  elseif owner ~= '' and share > 0 and tonumber(redis.call('HGET', KEYS[4], owner) or '0') + items > share then
    out[#out + 1] = -2
  else
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i + 2])
    if owner ~= '' then
      redis.call('HSET', KEYS[3], ARGV[i + 2], owner)
      redis.call('HINCRBY', KEYS[4], owner, items)
    end
    used = used + items
    added = added + items
    out[#out + 1] = 1
  end
  if out[#out] ~= 1 then refused = true end
  out[#out + 1] = count
  out[#out + 1] = left
end
if added > 0 then redis.call('INCRBY', KEYS[2], added) end
out[#out + 1] = used
local job = tonumber(ARGV[3])
local blocked = 0
if refused and job > 0 and redis.call('EXISTS', KEYS[job]) == 0 then
  redis.call('HSET', KEYS[job], 'placeholder', 'admission refused a request of this job')
  redis.call('PEXPIRE', KEYS[job], ARGV[4])
  blocked = 1
end
out[#out + 1] = blocked
return out
