import type { Redis } from 'ioredis';
import { abandonIdempotency } from './commands/abandon-idempotency.js';
import { claimIdempotency, type Claim } from './commands/claim-idempotency.js';
import type { Reply } from '@tessera/contract';
import { deliverReply } from './delivery.js';
import { REPLY_TTL_MS } from './job-options.js';
import { RedisKeys } from './keys.js';

/**
 * Idempotency keys, shared by every replica (RedisKeys.idempotency): per key, already scoped by
 * the caller to API key, model and version, a record {fp, jobId} of the request's fingerprint and
 * the id of the request computing it (its `requestId`; the hash field keeps its old name), the successful reply once there is one, and the reply lists of replicas
 * that attached to the job in flight.
 *
 * A retry that reaches another replica attaches by adding its own reply list to the set; the
 * worker pushes the reply to every list in the set in the same script that stores the result
 * (commands/deliverReplies-n.lua), so a retry either is in the set when the worker delivers or
 * sees the stored result.
 */
export class IdempotencyStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /**
   * Claims `key` for a new job, or tells how to answer a retry: with the stored result, by
   * attaching to the job in flight, or 409 when the key was used for another request.
   * `holdMs` bounds how long an unfinished claim blocks retries (the request's deadline).
   */
  claim(key: string, fingerprint: string, requestId: string, holdMs: number, replyList: string): Promise<Claim> {
    return claimIdempotency.run(this.conn, {
      keys: this.keys.idempotency(key),
      fingerprint,
      requestId,
      holdMs,
      replyList,
    });
  }

  /** Frees a claim that produced no result (enqueue failed, timed out), unless another request took it. */
  abandon(key: string, requestId: string): Promise<void> {
    return abandonIdempotency.run(this.conn, { keys: this.keys.idempotency(key), requestId });
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
