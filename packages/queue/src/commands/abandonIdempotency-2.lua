--[[
  Frees a claim that produced no result, unless another job took the key meanwhile.

  Input:
    KEYS[1]  record hash {fp, jobId}
    KEYS[2]  stored result

    ARGV[1]  the job id of the claim

  Output: 1.
]]
if redis.call('HGET', KEYS[1], 'jobId') == ARGV[1] and not redis.call('GET', KEYS[2]) then
  redis.call('DEL', KEYS[1])
end
return 1
