import type { AdmissionKeys, CacheBudgetKeys, IdempotencyKeys } from '../keys.js';
import { RedisScript } from '../script.js';

/** One reply, resolved to its keys and values (see delivery.ts for how a Delivery becomes one). */
export interface ReplyDelivery {
  replyList: string;
  replyTtlMs: number;
  /** The reply as JSON. */
  text: string;
  admission: AdmissionKeys;
  /** Its admission member, released here. */
  member: string;
  /** The request id an idempotency claim holds (a failure frees the claim only if it is still this request's). */
  requestId: string;
  idempotency?: { keys: IdempotencyKeys; ok: boolean; ttlMs: number } | undefined;
  cache?: { key: string; budget: CacheBudgetKeys; ttlMs: number; value: string; budgetBytes: number } | undefined;
}

export interface DeliverInput {
  now: number;
  replies: readonly ReplyDelivery[];
}

/** deliverReplies-n.lua: the header there says what each value means. */
export const deliverRepliesScript = new RedisScript<DeliverInput, void>('deliverReplies-n', {
  encode({ now, replies }) {
    const keys: string[] = [];
    const args: (string | number)[] = [replies.length, now];
    for (const r of replies) {
      const own = [r.replyList, r.admission.zset, r.admission.counter, r.admission.owners, r.admission.usage];
      if (r.idempotency) own.push(r.idempotency.keys.record, r.idempotency.keys.result, r.idempotency.keys.replies);
      if (r.cache) own.push(r.cache.key, r.cache.budget.index, r.cache.budget.sizes, r.cache.budget.total);
      keys.push(...own);
      args.push(
        own.length,
        r.text,
        r.replyTtlMs,
        r.member,
        r.idempotency ? (r.idempotency.ok ? '1' : '0') : '',
        r.idempotency?.ttlMs ?? 0,
        r.requestId,
        r.cache ? Math.max(1, Math.ceil(r.cache.ttlMs)) : 0,
        r.cache?.value ?? '',
        r.cache?.budgetBytes ?? 0,
      );
    }
    return { keys, args };
  },
  decode: () => undefined,
});
