import type { Redis } from 'ioredis';

/**
 * Queue caps counted in items, the same for every API replica.
 *
 * Per model, a sorted set holds one member per admitted job (scored by the time after which it
 * can no longer matter: its deadline plus a grace) and a counter holds the sum of their items.
 * Admission is one Lua script, so that replicas cannot both take the last free items. Whoever
 * finishes a job releases it (the API when it answers, the worker when it replies; the second
 * release finds nothing). Entries of a replica that crashed are dropped once their deadline has
 * passed, before every count, so nothing leaks for longer than a request could live.
 */

export function admissionKeys(prefix: string, model: string): [zset: string, counter: string] {
  return [`${prefix}:admission:${model}`, `${prefix}:admission:${model}:items`];
}

/** Past the deadline a worker drops the job unseen; this grace covers clock skew between hosts. */
export const ADMISSION_GRACE_MS = 5000;

// Members are "<jobId>|<items>" so that expired entries can be subtracted without a lookup.
const ADMIT = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #expired > 0 then
  local n = 0
  for _, m in ipairs(expired) do n = n + tonumber(string.match(m, '|(%d+)$')) end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
  redis.call('DECRBY', KEYS[2], n)
end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used < 0 or redis.call('ZCARD', KEYS[1]) == 0 then
  used = 0
  redis.call('SET', KEYS[2], 0)
end
local items = tonumber(ARGV[3])
if used + items > tonumber(ARGV[2]) then return {0, used} end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[5])
redis.call('INCRBY', KEYS[2], items)
return {1, used + items}
`;

export const RELEASE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('DECRBY', KEYS[2], tonumber(string.match(ARGV[1], '|(%d+)$')))
end
return 1
`;

export const admissionMember = (jobId: string, items: number): string => `${jobId}|${items}`;

export interface AdmissionResult {
  admitted: boolean;
  /** Items in flight for the model after this decision. */
  inFlight: number;
}

export class Admission {
  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
  ) {}

  async admit(model: string, jobId: string, items: number, cap: number, deadline: number): Promise<AdmissionResult> {
    const [zset, counter] = admissionKeys(this.prefix, model);
    const [ok, used] = (await this.conn.eval(ADMIT, 2, zset, counter, Date.now(), cap, items, Math.ceil(deadline + ADMISSION_GRACE_MS), admissionMember(jobId, items))) as [number, number];
    return { admitted: ok === 1, inFlight: used };
  }

  /** Idempotent: releasing twice, or a job never admitted, changes nothing. */
  async release(model: string, jobId: string, items: number): Promise<void> {
    const [zset, counter] = admissionKeys(this.prefix, model);
    await this.conn.eval(RELEASE, 2, zset, counter, admissionMember(jobId, items));
  }

  /** Items admitted and not yet released (expired entries still count until the next admit). */
  async inFlight(model: string): Promise<number> {
    const [, counter] = admissionKeys(this.prefix, model);
    return Math.max(0, Number((await this.conn.get(counter)) ?? 0));
  }
}
