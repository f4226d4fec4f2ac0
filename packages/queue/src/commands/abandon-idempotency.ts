import type { IdempotencyKeys } from '../keys.js';
import { RedisScript } from '../script.js';

export interface AbandonInput {
  keys: IdempotencyKeys;
  /** The job of the claim being abandoned: a claim another job holds stays. */
  requestId: string;
}

/** abandonIdempotency-2.lua. */
export const abandonIdempotency = new RedisScript<AbandonInput, void>('abandonIdempotency-2', {
  encode: ({ keys: k, requestId }) => ({ keys: [k.record, k.result], args: [requestId] }),
  decode: () => undefined,
});
