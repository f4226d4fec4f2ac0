--[[
  Takes a removed admission member's items off its owner's share.
    owners  the admission's owners hash (member → owner)
    usage   the admission's usage hash (owner → items)
    member  '<request id>|<items>'
    items   the member's items
]]
local function forgetOwner(owners, usage, member, items)
  local owner = redis.call('HGET', owners, member)
  if owner then
    redis.call('HDEL', owners, member)
    if redis.call('HINCRBY', usage, owner, -items) <= 0 then redis.call('HDEL', usage, owner) end
  end
end
