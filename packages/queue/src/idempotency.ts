import type { Redis } from 'ioredis';
import type { Reply } from '@tessera/contract';
import { admissionKeys, admissionMember } from './admission.js';
import { RedisScript } from './script.js';

/**
 * Idempotency keys, shared by every replica.
 *
 * Per key (already scoped by the caller to API key, model and version):
 * - `<prefix>:idem:<key>`          hash {fp, jobId}: the request fingerprint and the job computing it;
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
  | { kind: 'owner' }
  | { kind: 'conflict' }
  | { kind: 'result'; reply: Reply }
  | { kind: 'attach'; jobId: string };

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
 * Delivers one reply: to the asking replica's list, releases the job's admission entry, stores
 * a successful result in the response cache when asked to, and for an idempotent job stores a
 * success (a failure frees the key, so a retry computes again) and pushes the reply to every
 * attached replica. One script, so nothing can slip between. The attached lists are read from a
 * set rather than declared keys: fine on one Redis server, which is what Tessera uses (a
 * cluster would need them in one hash slot).
 *
 * KEYS: reply list, admission set, admission counter, then the three idempotency keys when
 * ARGV[4] is not empty, then the response-cache key when ARGV[7] is not '0'.
 * ARGV: reply, reply TTL, admission member, idempotency ('' none, '1' success, '0' failure),
 * idempotency TTL, job id, cache TTL ('0' none), cached result.
 */
const DELIVER = new RedisScript(`
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('ZREM', KEYS[2], ARGV[3]) == 1 then
  redis.call('DECRBY', KEYS[3], tonumber(string.match(ARGV[3], '|(%d+)$')))
end
if ARGV[7] ~= '0' then
  redis.call('SET', KEYS[#KEYS], ARGV[8], 'PX', ARGV[7])
end
if ARGV[4] ~= '' then
  if ARGV[4] == '1' then
    redis.call('SET', KEYS[5], ARGV[1], 'PX', ARGV[5])
    redis.call('PEXPIRE', KEYS[4], ARGV[5])
  elseif redis.call('HGET', KEYS[4], 'jobId') == ARGV[6] then
    redis.call('DEL', KEYS[4])
  end
  for _, list in ipairs(redis.call('SMEMBERS', KEYS[6])) do
    if list ~= KEYS[1] then
      redis.call('LPUSH', list, ARGV[1])
      redis.call('PEXPIRE', list, ARGV[2])
    end
  end
  redis.call('DEL', KEYS[6])
end
return 1
`);

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
  async claim(key: string, fingerprint: string, jobId: string, holdMs: number, replyList: string): Promise<Claim> {
    const keys = idempotencyKeys(this.prefix, key);
    const out = (await CLAIM.run(this.conn, keys, [fingerprint, jobId, Math.max(1, Math.ceil(holdMs)), replyList])) as string[];
    if (out[0] === 'owner') return { kind: 'owner' };
    if (out[0] === 'conflict') return { kind: 'conflict' };
    if (out[0] === 'result') return { kind: 'result', reply: JSON.parse(out[1]!) as Reply };
    return { kind: 'attach', jobId: out[1]! };
  }

  /** Frees a claim that produced no result (enqueue failed, timed out), unless another job took it. */
  async abandon(key: string, jobId: string): Promise<void> {
    const [record, result] = idempotencyKeys(this.prefix, key);
    await ABANDON.run(this.conn, [record, result], [jobId]);
  }
}

export interface Delivery {
  prefix: string;
  model: string;
  replyTo: string;
  items: number;
  idempotency?: { key: string; ttlMs: number } | undefined;
  /** Where a successful result goes in the response cache (stored when it fits in maxBytes). */
  cache?: { key: string; ttlMs: number; maxBytes: number } | undefined;
}

/**
 * Worker side, and the API for results it found without a job (cache hits of an idempotent
 * request). Resolves to whether the result was stored in the response cache.
 */
export async function deliverReply(conn: Redis, d: Delivery, reply: Reply, replyTtlMs: number): Promise<boolean> {
  const keys = [d.replyTo, ...admissionKeys(d.prefix, d.model)];
  let text: string;
  let cached: string | undefined;
  if (reply.ok && d.cache) {
    // The result is serialised once: the reply is built around it.
    cached = JSON.stringify(reply.result);
    text = `{"jobId":${JSON.stringify(reply.jobId)},"ok":true,"result":${cached}}`;
    if (Buffer.byteLength(cached) > d.cache.maxBytes) cached = undefined;
  } else {
    text = JSON.stringify(reply);
  }
  const args: (string | number)[] = [text, replyTtlMs, admissionMember(reply.jobId, d.items), '', 0, reply.jobId, 0, ''];
  if (d.idempotency) {
    keys.push(...idempotencyKeys(d.prefix, d.idempotency.key));
    args[3] = reply.ok ? '1' : '0';
    args[4] = d.idempotency.ttlMs;
  }
  if (cached !== undefined) {
    keys.push(d.cache!.key);
    args[6] = Math.max(1, Math.ceil(d.cache!.ttlMs));
    args[7] = cached;
  }
  await DELIVER.run(conn, keys, args);
  return cached !== undefined;
}
