import type { Reply } from '@tessera/contract';
import type { IdempotencyKeys } from '../keys.js';
import { RedisScript } from '../script.js';

export interface ClaimInput {
  keys: IdempotencyKeys;
  fingerprint: string;
  /** The job that computes the request when the claim is new. */
  requestId: string;
  /** How long an unfinished claim blocks retries. */
  holdMs: number;
  /** The caller's reply list: a retry attached to the job in flight is answered there too. */
  replyList: string;
}

export type Claim =
  { kind: 'owner' } | { kind: 'conflict' } | { kind: 'result'; reply: Reply } | { kind: 'attach'; requestId: string };

/** claimIdempotency-3.lua. */
export const claimIdempotency = new RedisScript<ClaimInput, Claim>('claimIdempotency-3', {
  encode: ({ keys: k, fingerprint, requestId, holdMs, replyList }) => ({
    keys: [k.record, k.result, k.replies],
    args: [fingerprint, requestId, Math.max(1, Math.ceil(holdMs)), replyList],
  }),
  decode(reply) {
    const [kind, value] = reply as [string, string | undefined];
    if (kind === 'owner') return { kind: 'owner' };
    if (kind === 'conflict') return { kind: 'conflict' };
    if (kind === 'result') return { kind: 'result', reply: JSON.parse(value!) as Reply };
    if (kind === 'attach') return { kind: 'attach', requestId: value! };
    throw new Error(`unexpected reply from the idempotency script: ${JSON.stringify(reply)}`);
  },
});
