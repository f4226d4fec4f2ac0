import type { AdmissionKeys } from '../keys.js';
import { RedisScript } from '../script.js';

/** Past the deadline a worker drops the job unseen; this grace covers clock skew between hosts. */
export const ADMISSION_GRACE_MS = 5000;

/** An admission member: the items ride along, so that the scripts subtract them without a lookup. */
export const admissionMember = (requestId: string, items: number): string => `${requestId}|${items}`;

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

export interface AdmitInput {
  keys: AdmissionKeys;
  now: number;
  cap: number;
  requests: readonly AdmissionRequest[];
  planned?: PlannedJob | undefined;
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

/** Keys beyond the admission's four are passed once each and named by their index in KEYS. */
function keyIndexer(keys: string[]): (key: string | undefined) => number {
  const index = new Map<string, number>();
  return (key) => {
    if (key === undefined) return 0;
    let i = index.get(key);
    if (i === undefined) {
      i = keys.push(key);
      index.set(key, i);
    }
    return i;
  };
}

/** admit-n.lua: the header there says what each value means. */
export const admit = new RedisScript<AdmitInput, AdmissionOutcome>('admit-n', {
  encode({ keys: k, now, cap, requests, planned }) {
    const keys = [k.zset, k.counter, k.owners, k.usage];
    const keyIndex = keyIndexer(keys);
    const args: (string | number)[] = [
      now,
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
    return { keys, args };
  },

  decode(reply, { requests }) {
    const out = reply as (number | string)[];
    const n = requests.length;
    if (!Array.isArray(out) || out.length !== 3 * n + 2)
      throw new Error(`unexpected reply from the admission script: ${JSON.stringify(reply)} for ${n} requests`);
    const outcome: AdmissionOutcome = {
      admitted: [],
      cached: [],
      limited: [],
      overShare: [],
      rate: [],
      inFlight: Number(out[3 * n]),
      jobBlocked: out[3 * n + 1] === 1,
    };
    for (let i = 0; i < n; i++) {
      const [decision, count, left] = [out[3 * i], Number(out[3 * i + 1]), Number(out[3 * i + 2])];
      outcome.admitted.push(decision === 1);
      outcome.cached.push(typeof decision === 'string' ? decision : undefined);
      outcome.limited.push(decision === -1);
      outcome.overShare.push(decision === -2);
      outcome.rate.push(count >= 0 ? { count, resetMs: Math.max(0, left) } : undefined);
    }
    return outcome;
  },
});
