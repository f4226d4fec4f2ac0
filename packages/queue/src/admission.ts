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

/**
 * The sorted set, the counter, and the per-key share: which key admitted each member (hash
 * member → owner) and how many items each key holds (hash owner → items).
 */
export function admissionKeys(
  prefix: string,
  model: string,
): [zset: string, counter: string, owners: string, usage: string] {
  const base = `${prefix}:admission:${model}`;
  return [base, `${base}:items`, `${base}:owner`, `${base}:usage`];
}

/**
 * Lua shared by every script that removes admission members: takes a removed member's items
 * off its owner's share (KEYS: the owners and usage hashes of admissionKeys).
 */
export const FORGET_OWNER = `
local function forget_owner(owners, usage, member, items)
  local owner = redis.call('HGET', owners, member)
  if owner then
    redis.call('HDEL', owners, member)
    if redis.call('HINCRBY', usage, owner, -items) <= 0 then redis.call('HDEL', usage, owner) end
  end
end
`;

/** Past the deadline a worker drops the job unseen; this grace covers clock skew between hosts. */
export const ADMISSION_GRACE_MS = 5000;

// Members are "<requestId>|<items>" so that expired entries can be subtracted without a lookup.
// KEYS: the sorted set, the counter, the owners and usage hashes, then the response-cache keys
// looked up, the rate-limit counters and the planned job's key, each once.
// ARGV: now, cap, the index in KEYS of the planned job's key (0: none), the TTL (ms) of a
// placeholder there, then per request: items, score, member, the index in KEYS of its cache key
// (0: none), of its rate-limit counter (0: none), that counter's limit and window (ms), its
// owner ('' none) and the most items one owner may hold (0: no share).
// Per request, three values: its decision, then its rate-limit count and the milliseconds left
// in that window (both -1 when it has no counter). The decision is -1 when the count is over the
// limit (nothing else is done: no lookup, no admission), else its cached result when the lookup
// finds one (not admitted), else 1 when it fits under the cap and its owner's share (admitted),
// 0 when it does not fit under the cap, -2 when it does not fit in its owner's share. Then the items in
// flight. Last, 1 when a request was not admitted and a placeholder now holds the planned job's
// key (see Admission.admitMany), else 0.
const ADMIT = new RedisScript(`${FORGET_OWNER}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if #expired > 0 then
  local n = 0
  for _, m in ipairs(expired) do
    local k = tonumber(string.match(m, '|(%d+)$'))
    n = n + k
    forget_owner(KEYS[3], KEYS[4], m, k)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
  redis.call('DECRBY', KEYS[2], n)
end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used < 0 or redis.call('ZCARD', KEYS[1]) == 0 then
  used = 0
  redis.call('SET', KEYS[2], 0)
  redis.call('DEL', KEYS[3], KEYS[4])
end
local cap = tonumber(ARGV[2])
local out = {}
local added = 0
local refused = false
for i = 5, #ARGV, 9 do
  local items = tonumber(ARGV[i])
  local lookup = tonumber(ARGV[i + 3])
  local counter = tonumber(ARGV[i + 4])
  local owner, share = ARGV[i + 7], tonumber(ARGV[i + 8])
  local count, left, limited = -1, -1, false
  if counter > 0 then
    count = redis.call('INCR', KEYS[counter])
    left = redis.call('PTTL', KEYS[counter])
    if left < 0 then
      left = tonumber(ARGV[i + 6])
      redis.call('PEXPIRE', KEYS[counter], left)
    end
    limited = count > tonumber(ARGV[i + 5])
  end
  local cached = not limited and lookup > 0 and redis.call('GET', KEYS[lookup])
  if limited then
    out[#out + 1] = -1
  elseif cached then
    out[#out + 1] = cached
  elseif used + items > cap then
    out[#out + 1] = 0
  elseif owner ~= '' and share > 0 and tonumber(redis.call('HGET', KEYS[4], owner) or '0') + items > share then
    out[#out + 1] = -2
  else
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i + 2])
    if owner ~= '' then
      redis.call('HSET', KEYS[3], ARGV[i + 2], owner)
      redis.call('HINCRBY', KEYS[4], owner, items)
    end
    used = used + items
    added = added + items
    out[#out + 1] = 1
  end
  if out[#out] ~= 1 then refused = true end
  out[#out + 1] = count
  out[#out + 1] = left
end
if added > 0 then redis.call('INCRBY', KEYS[2], added) end
out[#out + 1] = used
local job = tonumber(ARGV[3])
local blocked = 0
if refused and job > 0 and redis.call('EXISTS', KEYS[job]) == 0 then
  redis.call('HSET', KEYS[job], 'placeholder', 'admission refused a request of this job')
  redis.call('PEXPIRE', KEYS[job], ARGV[4])
  blocked = 1
end
out[#out + 1] = blocked
return out
`);

// ARGV: the members to release.
const RELEASE = new RedisScript(`${FORGET_OWNER}
local n = 0
for _, m in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], m) == 1 then
    local k = tonumber(string.match(m, '|(%d+)$'))
    n = n + k
    forget_owner(KEYS[3], KEYS[4], m, k)
  end
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
  requestId: string;
  items: number;
  /** Epoch milliseconds after which the request cannot matter any more. */
  deadline: number;
  /** A response-cache key: a result stored there answers the request, which is then not admitted. */
  lookup?: string | undefined;
  /** Counts the request against a rate limit first; over it, nothing else is done. */
  rate?: RateCount | undefined;
  /** The key (or client) the request is charged to, and the most items it may hold in this queue. */
  share?: QueueShare | undefined;
}

/** One owner's share of a model's queue cap: `owner` holds at most `maxItems` items at once. */
export interface QueueShare {
  owner: string;
  maxItems: number;
}

/** A fixed-window rate-limit counter (the key in Redis), its limit and its window. */
export interface RateCount {
  key: string;
  limit: number;
  windowMs: number;
}

/** A request's count in its rate-limit window, and the milliseconds left in that window. */
export interface RateState {
  count: number;
  resetMs: number;
}

export interface AdmissionOutcome {
  /** Per request: admitted under the cap. */
  admitted: boolean[];
  /** Per request: the cached result (JSON) that answered it instead, if any. */
  cached: (string | undefined)[];
  /** Per request: over its rate limit (neither looked up nor admitted). */
  limited: boolean[];
  /** Per request: refused because its owner holds its whole share of the queue cap. */
  overShare: boolean[];
  /** Per request: its rate-limit count, when it carried one. */
  rate: (RateState | undefined)[];
  /** Items in flight for the model after these decisions. */
  inFlight: number;
  /** A request was not admitted and a placeholder holds the planned job's key (see `planned`). */
  jobBlocked: boolean;
}

/**
 * The job that is added right after the admission on the same connection, before its answer
 * is known (one round trip for both). When any of its requests is not admitted, the admission
 * puts a placeholder hash at the job's key, so that BullMQ, which never adds a job whose id
 * exists, skips that add; the caller then deletes the placeholder and adds the admitted
 * requests alone.
 */
export interface PlannedJob {
  /** The job's key (Queue.toKey(jobId)). */
  key: string;
  /** How long a placeholder lives if nobody deletes it. */
  placeholderTtlMs: number;
}

export class Admission {
  constructor(
    readonly conn: Redis,
    private readonly prefix: string,
  ) {}

  async admit(
    model: string,
    requestId: string,
    items: number,
    cap: number,
    deadline: number,
  ): Promise<AdmissionResult> {
    const { admitted, inFlight } = await this.admitMany(model, [{ requestId, items, deadline }], cap);
    return { admitted: admitted[0]!, inFlight };
  }

  /**
   * In one round trip, per request in order: counts it against its rate limit, if it has one,
   * and stops there when it is over; answers it from the response cache when it names a cache
   * key that holds a result; else admits it if it fits under `cap`.
   *
   * With `planned`, the script runs before any command issued on this connection after the
   * call, and blocks the planned job's key when it does not admit every request.
   */
  async admitMany(
    model: string,
    requests: readonly AdmissionRequest[],
    cap: number,
    planned?: PlannedJob,
  ): Promise<AdmissionOutcome> {
    const keys: string[] = admissionKeys(this.prefix, model);
    const index = new Map<string, number>();
    const keyIndex = (key: string | undefined): number => {
      if (key === undefined) return 0;
      let i = index.get(key);
      if (i === undefined) {
        i = keys.push(key);
        index.set(key, i);
      }
      return i;
    };
    const args: (string | number)[] = [
      Date.now(),
      cap,
      keyIndex(planned?.key),
      Math.max(1, Math.ceil(planned?.placeholderTtlMs ?? 1)),
    ];
    for (const r of requests) {
      args.push(
        r.items,
        Math.ceil(r.deadline + ADMISSION_GRACE_MS),
        admissionMember(r.requestId, r.items),
        keyIndex(r.lookup),
        keyIndex(r.rate?.key),
        r.rate?.limit ?? 0,
        r.rate?.windowMs ?? 0,
        r.share?.owner ?? '',
        r.share?.maxItems ?? 0,
      );
    }
    const reply = planned ? ADMIT.runInOrder(this.conn, keys, args) : ADMIT.run(this.conn, keys, args);
    const out = (await reply) as (number | string)[];
    if (out.length !== 3 * requests.length + 2)
      throw new Error(
        `unexpected reply from the admission script: ${out.length} values for ${requests.length} requests`,
      );
    const outcome: AdmissionOutcome = {
      admitted: [],
      cached: [],
      limited: [],
      overShare: [],
      rate: [],
      inFlight: Number(out[3 * requests.length]),
      jobBlocked: out[3 * requests.length + 1] === 1,
    };
    for (let i = 0; i < requests.length; i++) {
      const [decision, count, left] = [out[3 * i], Number(out[3 * i + 1]), Number(out[3 * i + 2])];
      outcome.admitted.push(decision === 1);
      outcome.cached.push(typeof decision === 'string' ? decision : undefined);
      outcome.limited.push(decision === -1);
      outcome.overShare.push(decision === -2);
      outcome.rate.push(count >= 0 ? { count, resetMs: Math.max(0, left) } : undefined);
    }
    return outcome;
  }

  /** Idempotent: releasing twice, or a request never admitted, changes nothing. */
  async release(model: string, requestId: string, items: number): Promise<void> {
    await RELEASE.run(this.conn, admissionKeys(this.prefix, model), [admissionMember(requestId, items)]);
  }

  /** Items `owner` holds in the model's queue (expired entries still count until the next admit). */
  async heldBy(model: string, owner: string): Promise<number> {
    const [, , , usage] = admissionKeys(this.prefix, model);
    return Math.max(0, Number((await this.conn.hget(usage, owner)) ?? 0));
  }

  /** Items admitted and not yet released (expired entries still count until the next admit). */
  async inFlight(model: string): Promise<number> {
    const [, counter] = admissionKeys(this.prefix, model);
    return Math.max(0, Number((await this.conn.get(counter)) ?? 0));
  }
}
