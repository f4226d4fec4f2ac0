--[[
  Adds hits to fixed-window counters (the API's rate limits). A counter that is new, or lost its
  expiry, starts its window now.

  Input:
    KEYS[1…]  the counters
    ARGV[1]   the window (ms)
    ARGV[2…]  the hits to add, one per key, in KEYS order

  Output: per key, in order, 2 values: its new total, the ms left in its window.
]]
local window = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local total = redis.call('INCRBY', key, ARGV[i + 1])
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  out[#out + 1] = total
  out[#out + 1] = ttl
end
return out
