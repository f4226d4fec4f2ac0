--[[
  Delivers replies (a batch's together): each to the asking replica's list; releases its
  admission entry; stores a successful result in the response cache when asked to; for an
  idempotent job, stores a success (a failure frees the key, so that a retry computes again) and
  pushes the reply to every attached replica. One script, so nothing can slip between.
  The attached lists are read from a set rather than declared keys: fine on one Redis server,
  which is what Tessera uses (a cluster would need them in one hash slot).

  Input:
    KEYS     per reply, following the previous reply's keys:
               reply list,
               admission sorted set, counter, owners hash, usage hash,
               idempotency record, result, attached lists  (only when its idempotency is not ''),
               cache entry, budget index, sizes, total      (only when its cache TTL is not '0')

    ARGV[1]  the number of replies
    ARGV[2]  now (epoch ms)
    then per reply, 10 values:
      its number of keys, the reply (JSON), the reply list's TTL (ms), its admission member,
      idempotency ('' none, '1' success, '0' failure), the idempotency TTL (ms), the job id,
      the cache TTL (ms, '0' none), the value to cache, the cache's budget (bytes)

  Output: 1.
]]
--- @include "includes/forgetOwner"
--- @include "includes/memberItems"
--- @include "includes/storeCached"

local k, a, now = 0, 2, tonumber(ARGV[2])
for _ = 1, tonumber(ARGV[1]) do
  local nk = tonumber(ARGV[a + 1])
  local reply, ttl, member, idem = ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  redis.call('LPUSH', KEYS[k + 1], reply)
  redis.call('PEXPIRE', KEYS[k + 1], ttl)
  if redis.call('ZREM', KEYS[k + 2], member) == 1 then
    local items = memberItems(member)
    redis.call('DECRBY', KEYS[k + 3], items)
    forgetOwner(KEYS[k + 4], KEYS[k + 5], member, items)
  end
  if ARGV[a + 8] ~= '0' then
    storeCached(KEYS[k + nk - 3], KEYS[k + nk - 2], KEYS[k + nk - 1], KEYS[k + nk],
      ARGV[a + 9], tonumber(ARGV[a + 8]), tonumber(ARGV[a + 10]), now)
  end
  if idem ~= '' then
    if idem == '1' then
      redis.call('SET', KEYS[k + 7], reply, 'PX', ARGV[a + 6])
      redis.call('PEXPIRE', KEYS[k + 6], ARGV[a + 6])
    elseif redis.call('HGET', KEYS[k + 6], 'jobId') == ARGV[a + 7] then
      redis.call('DEL', KEYS[k + 6])
    end
    for _, list in ipairs(redis.call('SMEMBERS', KEYS[k + 8])) do
      if list ~= KEYS[k + 1] then
        redis.call('LPUSH', list, reply)
        redis.call('PEXPIRE', list, ttl)
      end
    end
    redis.call('DEL', KEYS[k + 8])
  end
  k = k + nk
  a = a + 10
end
return 1
