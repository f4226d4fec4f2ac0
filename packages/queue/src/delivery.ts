import type { Redis } from 'ioredis';
import type { Reply } from '@tessera/contract';
import { admissionMember } from './commands/admit.js';
import { deliverRepliesScript, type ReplyDelivery } from './commands/deliver-replies.js';
import { DEFAULT_CACHE_BUDGET_BYTES } from './cache-budget.js';
import { RedisKeys } from './keys.js';

export interface Delivery {
  prefix: string;
  model: string;
  replyTo: string;
  items: number;
  idempotency?: { key: string; ttlMs: number } | undefined;
  /**
   * Where a successful result goes in the response cache (stored when it fits in maxBytes, within
   * the cache's budgetBytes).
   */
  cache?: { key: string; ttlMs: number; maxBytes: number; budgetBytes?: number | undefined } | undefined;
}

/** A reply and where it goes. */
export interface Delivered {
  delivery: Delivery;
  reply: Reply;
}

/** A reply's keys and values for the delivery script. */
function resolve({ delivery: d, reply }: Delivered, replyTtlMs: number): ReplyDelivery {
  const keys = new RedisKeys(d.prefix);
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
  return {
    replyList: d.replyTo,
    replyTtlMs,
    text,
    admission: keys.admission(d.model),
    member: admissionMember(reply.requestId, d.items),
    requestId: reply.requestId,
    idempotency: d.idempotency && {
      keys: keys.idempotency(d.idempotency.key),
      ok: reply.ok,
      ttlMs: d.idempotency.ttlMs,
    },
    cache:
      cached === undefined
        ? undefined
        : {
            key: d.cache!.key,
            budget: keys.cacheBudget,
            ttlMs: d.cache!.ttlMs,
            value: cached,
            budgetBytes: d.cache!.budgetBytes ?? DEFAULT_CACHE_BUDGET_BYTES,
          },
  };
}

/**
 * Delivers several replies in one script (commands/deliverReplies-n.lua): to the asking
 * replica's list, releasing their admission, storing results in the response cache and
 * idempotency store, answering attached retries. Resolves, per reply, to whether its result was
 * stored in the response cache.
 */
export async function deliverReplies(
  conn: Redis,
  replies: readonly Delivered[],
  replyTtlMs: number,
): Promise<boolean[]> {
  const resolved = replies.map((r) => resolve(r, replyTtlMs));
  if (resolved.length > 0) await deliverRepliesScript.run(conn, { now: Date.now(), replies: resolved });
  return resolved.map((r) => r.cache !== undefined);
}

/**
 * One reply (the API, for results it found without a job: cache hits of an idempotent request,
 * and jobs it removed). Resolves to whether the result was stored in the response cache.
 */
export async function deliverReply(conn: Redis, d: Delivery, reply: Reply, replyTtlMs: number): Promise<boolean> {
  return (await deliverReplies(conn, [{ delivery: d, reply }], replyTtlMs))[0]!;
}
