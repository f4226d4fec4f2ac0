--[[
  Releases admitted requests (idempotent: a member already gone changes nothing).

  Input:
    KEYS[1]  admission sorted set
    KEYS[2]  admission counter
    KEYS[3]  admission owners hash
    KEYS[4]  admission usage hash

    ARGV[1…] the members to release ('<request id>|<items>')

  Output: the items released.
]]
--- @include "includes/forgetOwner"
--- @include "includes/memberItems"

local n = 0
for _, m in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], m) == 1 then
    local k = memberItems(m)
    n = n + k
    forgetOwner(KEYS[3], KEYS[4], m, k)
  end
end
if n > 0 then redis.call('DECRBY', KEYS[2], n) end
return n
