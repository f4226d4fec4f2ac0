--[[
  Stores a response-cache entry within the cache's byte budget.
    key, value, ttl      the entry, and its TTL (ms)
    index, sizes, total  the budget's keys (RedisKeys.cacheBudget)
    budget               the most bytes all entries together may cost
    now                  epoch ms

  An entry costs its value, twice its key (the key itself, and its index and size fields) and
  400 bytes for Redis' own structures (CACHE_ENTRY_OVERHEAD_BYTES in cache-budget.ts). Storing
  first forgets entries whose TTL ran out, then removes the entries that expire soonest until
  the new one fits; an entry that would need more than 64 removals is not stored.
  Returns 1 when stored, else 0.
]]
local function uncache(index, sizes, total, key)
  local cost = redis.call('HGET', sizes, key)
  if cost then
    redis.call('HDEL', sizes, key)
    redis.call('DECRBY', total, cost)
  end
  redis.call('ZREM', index, key)
end

local function storeCached(key, index, sizes, total, value, ttl, budget, now)
  for _, gone in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, 256)) do
    uncache(index, sizes, total, gone)
  end
  uncache(index, sizes, total, key)
  local cost = #value + 2 * #key + 400
  if cost > budget then return 0 end
  local used = tonumber(redis.call('GET', total) or '0')
  local evicted = 0
  while used + cost > budget and evicted < 64 do
    local first = redis.call('ZRANGE', index, 0, 0)
    if #first == 0 then break end
    uncache(index, sizes, total, first[1])
    redis.call('DEL', first[1])
    used = tonumber(redis.call('GET', total) or '0')
    evicted = evicted + 1
  end
  if used + cost > budget then return 0 end
  redis.call('SET', key, value, 'PX', ttl)
  redis.call('ZADD', index, now + ttl, key)
  redis.call('HSET', sizes, key, cost)
  redis.call('INCRBY', total, cost)
  return 1
end
