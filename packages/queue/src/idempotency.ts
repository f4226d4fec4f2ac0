import type { Redis } from 'ioredis';
import { abandonIdempotency } from './commands/abandon-idempotency.js';
import { claimIdempotency, type Claim } from './commands/claim-idempotency.js';
import { RedisKeys } from './keys.js';

/**
 * Idempotency keys, shared by every replica (RedisKeys.idempotency): per key, already scoped by
 * the caller to API key, model and version, a record {fp, jobId} of the request's fingerprint and
 * the job computing it, the successful reply once there is one, and the reply lists of replicas
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
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /**
   * Claims `key` for a new job, or tells how to answer a retry: with the stored result, by
   * attaching to the job in flight, or 409 when the key was used for another request.
   * `holdMs` bounds how long an unfinished claim blocks retries (the request's deadline).
   */
  claim(key: string, fingerprint: string, jobId: string, holdMs: number, replyList: string): Promise<Claim> {
    return claimIdempotency.run(this.conn, {
      keys: this.keys.idempotency(key),
      fingerprint,
      jobId,
      holdMs,
      replyList,
    });
  }

  /** Frees a claim that produced no result (enqueue failed, timed out), unless another job took it. */
  abandon(key: string, jobId: string): Promise<void> {
    return abandonIdempotency.run(this.conn, { keys: this.keys.idempotency(key), jobId });
  }
}
