import type { Redis } from 'ioredis';
import type { Reply } from '@tessera/contract';
import { admissionKeys, admissionMember, FORGET_OWNER } from './admission.js';
import { cacheBudgetKeys, STORE_CACHED } from './cache-budget.js';
import { REPLY_TTL_MS } from './names.js';
import { RedisScript } from './script.js';

/**
 * Idempotency keys, shared by every replica.
 *
 * Per key (already scoped by the caller to API key, model and version):
 * - `<prefix>:idem:<key>`          hash {fp, jobId}: the request fingerprint and the id of the request
 *                                   computing it (its `requestId`; the hash field keeps its old name);
 * - `<prefix>:idem:<key>:result`   the successful reply, kept for the idempotency TTL;
 * - `<prefix>:idem:<key>:replies`  reply lists of replicas that attached to the job in flight.
 *
 * A retry that reaches another replica attaches by adding its own reply list to the set; the
 * worker pushes the reply to every list in the set in the same script that stores the result,
 * so a retry either is in the set when the worker delivers or sees the stored result.
 */
export function idempotencyKeys(prefix: string, key: string): [record: string, result: string, replies: string] {
  const base = `${prefix}:idem:${key}`;
  return [base, `${base}:result`, `${base}:replies`];
}

export type Claim =
  { kind: 'owner' } | { kind: 'conflict' } | { kind: 'result'; reply: Reply } | { kind: 'attach'; requestId: string };

const CLAIM = new RedisScript(`
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
`);

const ABANDON = new RedisScript(`
if redis.call('HGET', KEYS[1], 'jobId') == ARGV[1] and not redis.call('GET', KEYS[2]) then
  redis.call('DEL', KEYS[1])
end
return 1
`);

/**
 * Delivers replies, each: to the asking replica's list, releases the job's admission entry,
 * stores a successful result in the response cache when asked to, and for an idempotent job
 * stores a success (a failure frees the key, so a retry computes again) and pushes the reply to
 * every attached replica. One script, so nothing can slip between; several replies (a batch's)
 * share one script. The attached lists are read from a set rather than declared keys: fine on
 * one Redis server, which is what Tessera uses (a cluster would need them in one hash slot).
 *
 * ARGV[1]: the number of replies, ARGV[2]: now (ms). Then per reply, its number of keys and nine
 * arguments; its keys follow the previous reply's in KEYS.
 * Keys of a reply: reply list, the four admission keys, then the three idempotency keys when its
 * 4th argument is not empty, then the response-cache key and the three keys of its byte budget
 * (cache-budget.ts) when its 7th is not '0'.
 * Arguments: reply, reply TTL, admission member, idempotency ('' none, '1' success, '0'
 * failure), idempotency TTL, job id, cache TTL ('0' none), cached result, the cache's budget (bytes).
 */
const DELIVER = new RedisScript(`${FORGET_OWNER}${STORE_CACHED}
local k, a, now = 0, 2, tonumber(ARGV[2])
for _ = 1, tonumber(ARGV[1]) do
  local nk = tonumber(ARGV[a + 1])
  local reply, ttl, member, idem = ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  redis.call('LPUSH', KEYS[k + 1], reply)
  redis.call('PEXPIRE', KEYS[k + 1], ttl)
  if redis.call('ZREM', KEYS[k + 2], member) == 1 then
    local items = tonumber(string.match(member, '|(%d+)$'))
    redis.call('DECRBY', KEYS[k + 3], items)
    forget_owner(KEYS[k + 4], KEYS[k + 5], member, items)
  end
  if ARGV[a + 8] ~= '0' then
    store_cached(KEYS[k + nk - 3], KEYS[k + nk - 2], KEYS[k + nk - 1], KEYS[k + nk], ARGV[a + 9], tonumber(ARGV[a + 8]), tonumber(ARGV[a + 10]), now)
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
`);

/** The response cache's byte budget when a job does not name one (jobs enqueued by an older API). */
export const DEFAULT_CACHE_BUDGET_BYTES = 64 * 1024 * 1024;

export class IdempotencyStore {
  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * Claims `key` for a new job, or tells how to answer a retry: with the stored result, by
   * attaching to the job in flight, or 409 when the key was used for another request.
   * `holdMs` bounds how long an unfinished claim blocks retries (the request's deadline).
   */
  async claim(key: string, fingerprint: string, requestId: string, holdMs: number, replyList: string): Promise<Claim> {
    const keys = idempotencyKeys(this.prefix, key);
    const out = (await CLAIM.run(this.conn, keys, [
      fingerprint,
      requestId,
      Math.max(1, Math.ceil(holdMs)),
      replyList,
    ])) as string[];
    if (out[0] === 'owner') return { kind: 'owner' };
    if (out[0] === 'conflict') return { kind: 'conflict' };
    if (out[0] === 'result') return { kind: 'result', reply: JSON.parse(out[1]!) as Reply };
    return { kind: 'attach', requestId: out[1]! };
  }

  /** Frees a claim that produced no result (enqueue failed, timed out), unless another request took it. */
  async abandon(key: string, requestId: string): Promise<void> {
    const [record, result] = idempotencyKeys(this.prefix, key);
    await ABANDON.run(this.conn, [record, result], [requestId]);
  }

  /**
   * Records the successful reply of a claimed request that was answered without a job (the
   * response cache had its result): stored under the key for `ttlMs`, and pushed to `replyTo` and
   * to every replica that attached meanwhile, as a worker's delivery does for a computed one.
   */
  async complete(
    key: string,
    ttlMs: number,
    reply: Reply & { ok: true },
    where: { model: string; replyTo: string },
  ): Promise<void> {
    const delivery = { prefix: this.prefix, ...where, items: 0, idempotency: { key, ttlMs } };
    await deliverReply(this.conn, delivery, reply, REPLY_TTL_MS);
  }
}

export interface Delivery {
  prefix: string;
  model: string;
  replyTo: string;
  items: number;
  idempotency?: { key: string; ttlMs: number } | undefined;
  /** Where a successful result goes in the response cache (stored when it fits in maxBytes, within the cache's budgetBytes). */
  cache?: { key: string; ttlMs: number; maxBytes: number; budgetBytes?: number | undefined } | undefined;
}

/** A reply and where it goes. */
export interface Delivered {
  delivery: Delivery;
  reply: Reply;
}

/** A reply's keys and arguments for DELIVER, and whether its result goes to the response cache. */
function deliveryCall(
  d: Delivery,
  reply: Reply,
  replyTtlMs: number,
): { keys: string[]; args: (string | number)[]; cached: boolean } {
  const keys = [d.replyTo, ...admissionKeys(d.prefix, d.model)];
  let text: string;
  let cached: string | undefined;
  if (reply.ok && d.cache) {
    // The result is serialised once: the reply is built around it.
    cached = JSON.stringify(reply.result);
    text = `{"requestId":${JSON.stringify(reply.requestId)},"ok":true,"result":${cached}}`;
    if (Buffer.byteLength(cached) > d.cache.maxBytes) cached = undefined;
  } else {
    text = JSON.stringify(reply);
  }
  const args: (string | number)[] = [
    text,
    replyTtlMs,
    admissionMember(reply.requestId, d.items),
    '',
    0,
    reply.requestId,
    0,
    '',
    0,
  ];
  if (d.idempotency) {
    keys.push(...idempotencyKeys(d.prefix, d.idempotency.key));
    args[3] = reply.ok ? '1' : '0';
    args[4] = d.idempotency.ttlMs;
  }
  if (cached !== undefined) {
    keys.push(d.cache!.key, ...cacheBudgetKeys(d.prefix));
    args[6] = Math.max(1, Math.ceil(d.cache!.ttlMs));
    args[7] = cached;
    args[8] = d.cache!.budgetBytes ?? DEFAULT_CACHE_BUDGET_BYTES;
  }
  return { keys, args, cached: cached !== undefined };
}

/**
 * Delivers several replies in one script (see DELIVER). Resolves, per reply, to whether its
 * result was stored in the response cache.
 */
export async function deliverReplies(
  conn: Redis,
  replies: readonly Delivered[],
  replyTtlMs: number,
): Promise<boolean[]> {
  const keys: string[] = [];
  const args: (string | number)[] = [replies.length, Date.now()];
  const cached: boolean[] = [];
  for (const { delivery, reply } of replies) {
    const call = deliveryCall(delivery, reply, replyTtlMs);
    keys.push(...call.keys);
    args.push(call.keys.length, ...call.args);
    cached.push(call.cached);
  }
  if (replies.length > 0) await DELIVER.run(conn, keys, args);
  return cached;
}

/**
 * One reply (the API, for results it found without a job: cache hits of an idempotent request,
 * and jobs it removed). Resolves to whether the result was stored in the response cache.
 */
export async function deliverReply(conn: Redis, d: Delivery, reply: Reply, replyTtlMs: number): Promise<boolean> {
  return (await deliverReplies(conn, [{ delivery: d, reply }], replyTtlMs))[0]!;
}
