import type { IdempotencyKeys } from '../keys.js';
import { RedisScript } from '../script.js';

export interface AbandonInput {
  keys: IdempotencyKeys;
  /** The job of the claim being abandoned: a claim another job holds stays. */
  jobId: string;
}

/** abandonIdempotency-2.lua. */
export const abandonIdempotency = new RedisScript<AbandonInput, void>('abandonIdempotency-2', {
  encode: ({ keys: k, jobId }) => ({ keys: [k.record, k.result], args: [jobId] }),
  decode: () => undefined,
});
