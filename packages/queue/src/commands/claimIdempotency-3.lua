--[[
  Claims an idempotency key for a new job, or tells how to answer a retry.

  Input:
    KEYS[1]  record hash {fp, jobId}
    KEYS[2]  stored result (the successful reply)
    KEYS[3]  set of reply lists attached to the job in flight

    ARGV[1]  the request's fingerprint
    ARGV[2]  the job id of a new claim
    ARGV[3]  how long (ms) a claim (and an attachment) holds
    ARGV[4]  the caller's reply list, attached when the job is in flight

  Output:
    {'owner'}            claimed: the caller computes
    {'conflict'}         the key was used for another request (another fingerprint)
    {'result', reply}    the stored reply (JSON)
    {'attach', jobId}    attached to the job in flight: its reply comes to ARGV[4] too
]]
local fp = redis.call('HGET', KEYS[1], 'fp')
if not fp then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'jobId', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'owner'}
end
if fp ~= ARGV[1] then return {'conflict'} end
local result = redis.call('GET', KEYS[2])
if result then return {'result', result} end
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return {'attach', redis.call('HGET', KEYS[1], 'jobId')}
