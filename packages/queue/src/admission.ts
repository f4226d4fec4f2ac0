import type { Redis } from 'ioredis';
import { RedisScript } from './script.js';

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

// Members are "<requestId>|<items>" so that expired entries can be subtracted without a lookup.
// KEYS: the sorted set, the counter, then the response-cache keys looked up.
// ARGV: now, cap, then (items, score, member, index of its cache key in KEYS or 0) per request.
// Per request, in order: its cached result when the lookup finds one (nothing is admitted),
// else 1 when it fits under the cap (admitted) or 0; then the items in flight.
const ADMIT = new RedisScript(`
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
local cap = tonumber(ARGV[2])
local out = {}
local added = 0
for i = 3, #ARGV, 4 do
  local items = tonumber(ARGV[i])
  local lookup = tonumber(ARGV[i + 3])
  local cached = lookup > 0 and redis.call('GET', KEYS[lookup])
  if cached then
    out[#out + 1] = cached
  elseif used + items > cap then
    out[#out + 1] = 0
  else
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i + 2])
    used = used + items
    added = added + items
    out[#out + 1] = 1
  end
end
if added > 0 then redis.call('INCRBY', KEYS[2], added) end
out[#out + 1] = used
return out
`);

// ARGV: the members to release.
const RELEASE = new RedisScript(`
local n = 0
for _, m in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], m) == 1 then n = n + tonumber(string.match(m, '|(%d+)$')) end
end
if n > 0 then redis.call('DECRBY', KEYS[2], n) end
return n
`);

export const admissionMember = (requestId: string, items: number): string => `${requestId}|${items}`;

export interface AdmissionResult {
  admitted: boolean;
  /** Items in flight for the model after this decision. */
  inFlight: number;
}

export interface AdmissionRequest {
  id: string;
  items: number;
  /** Epoch milliseconds after which the request cannot matter any more. */
  deadline: number;
  /** A response-cache key: a result stored there answers the request, which is then not admitted. */
  lookup?: string | undefined;
}

export interface AdmissionOutcome {
  /** Per request: admitted under the cap. */
  admitted: boolean[];
  /** Per request: the cached result (JSON) that answered it instead, if any. */
  cached: (string | undefined)[];
  /** Items in flight for the model after these decisions. */
  inFlight: number;
}

export class Admission {
  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
  ) {}

  async admit(model: string, requestId: string, items: number, cap: number, deadline: number): Promise<AdmissionResult> {
    const { admitted, inFlight } = await this.admitMany(model, [{ id: requestId, items, deadline }], cap);
    return { admitted: admitted[0]!, inFlight };
  }

  /**
   * In one round trip, per request in order: answers it from the response cache when it names
   * a cache key that holds a result, else admits it if it fits under `cap`.
   */
  async admitMany(model: string, requests: readonly AdmissionRequest[], cap: number): Promise<AdmissionOutcome> {
    const keys: string[] = admissionKeys(this.prefix, model);
    const args: (string | number)[] = [Date.now(), cap];
    for (const r of requests) {
      if (r.lookup !== undefined) keys.push(r.lookup);
      args.push(r.items, Math.ceil(r.deadline + ADMISSION_GRACE_MS), admissionMember(r.id, r.items), r.lookup !== undefined ? keys.length : 0);
    }
    const out = (await ADMIT.run(this.conn, keys, args)) as (number | string)[];
    const decisions = out.slice(0, requests.length);
    return {
      admitted: decisions.map((d) => d === 1),
      cached: decisions.map((d) => (typeof d === 'string' ? d : undefined)),
      inFlight: Number(out[requests.length]),
    };
  }

  /** Idempotent: releasing twice, or a request never admitted, changes nothing. */
  async release(model: string, requestId: string, items: number): Promise<void> {
    await RELEASE.run(this.conn, admissionKeys(this.prefix, model), [admissionMember(requestId, items)]);
  }

  /** Items admitted and not yet released (expired entries still count until the next admit). */
  async inFlight(model: string): Promise<number> {
    const [, counter] = admissionKeys(this.prefix, model);
    return Math.max(0, Number((await this.conn.get(counter)) ?? 0));
  }
}
