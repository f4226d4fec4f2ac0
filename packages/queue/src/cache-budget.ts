/**
 * The response cache's byte budget, kept in the same Redis as the queues (whose policy is
 * noeviction: Redis itself must never drop a job or an API key, so the cache evicts its own).
 *
 * - `<prefix>:cache:index`  sorted set: every entry's key, scored by when it expires (epoch ms);
 * - `<prefix>:cache:sizes`  hash: every entry's key → its cost in bytes;
 * - `<prefix>:cache:bytes`  the sum of those costs.
 *
 * An entry costs its value, twice its key (the key itself, and its index and size fields) and a
 * fixed overhead for Redis' own structures. Storing an entry first forgets entries whose TTL
 * ran out, then removes the entries that expire soonest (with one TTL per model: the oldest)
 * until the new one fits; an entry that would need more than EVICT_MAX removals is not stored.
 */
export function cacheBudgetKeys(prefix: string): [index: string, sizes: string, total: string] {
  return [`${prefix}:cache:index`, `${prefix}:cache:sizes`, `${prefix}:cache:bytes`];
}

/** Bytes Redis spends per entry beyond key and value (dict entry, TTL, sorted-set and hash nodes): MEMORY USAGE of entries, index and sizes measured 2,548 bytes per 2.2 KB entry where key + value made 2,148 (docs/security.md). */
export const CACHE_ENTRY_OVERHEAD_BYTES = 400;

/** Lua: `store_cached(key, index, sizes, total, value, ttl_ms, budget, now_ms)` → 1 stored, 0 not. */
export const STORE_CACHED = `
local function uncache(index, sizes, total, key)
  local cost = redis.call('HGET', sizes, key)
  if cost then
    redis.call('HDEL', sizes, key)
    redis.call('DECRBY', total, cost)
  end
  redis.call('ZREM', index, key)
end
local function store_cached(key, index, sizes, total, value, ttl, budget, now)
  for _, gone in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, 256)) do
    uncache(index, sizes, total, gone)
  end
  uncache(index, sizes, total, key)
  local cost = #value + 2 * #key + ${CACHE_ENTRY_OVERHEAD_BYTES}
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
`;
