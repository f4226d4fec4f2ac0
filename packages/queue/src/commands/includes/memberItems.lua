--[[
  The items of an admission member '<request id>|<items>': the member carries them, so that an
  expired or released member is subtracted without a lookup.
]]
local function memberItems(member)
  return tonumber(string.match(member, '|(%d+)$'))
end
