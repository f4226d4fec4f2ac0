import { ServiceError } from '@tessera/contract';
import type { RateCount, RateState } from '@tessera/queue';

/**
 * An inference request's rate-limit charge, not taken yet: the admission script takes it
 * together with the queue cap and the cache lookup (one Redis round trip for all three). The
 * transport creates it (http/middleware/rate-limit.ts, the gRPC service); the admission step
 * records the count it took in `state`, a value the transport turns into its answer (the HTTP
 * draft-8 headers). A request that never reaches an admission (a bad body, an unknown model, an
 * idempotent replay) is counted by the transport once it is answered.
 */
export interface RateCharge {
  count: RateCount;
  /** Who is counted, as the 429 names them: "API key 'x'" or "address 10.0.0.1". */
  who: string;
  /** Handed to an admission already (a pipeline's later stages are not counted again). */
  issued: boolean;
  /** The count the admission took (for a pipeline charged per call, the last one). */
  state?: RateState | undefined;
  /** When `state` was taken (epoch ms): its `resetMs` counts from here. */
  countedAt?: number | undefined;
}

/**
 * The count an admission takes for this call: once per request (undefined when it has none or
 * it was handed out already); with `eachCall`, one per inference call instead: a pipeline
 * request (texts, images) is charged for every call it makes, so that one request cannot spend
 * the service's work of hundreds (an OCR page costs a detection plus two calls per line).
 */
export function chargeOf(charge: RateCharge | undefined, eachCall = false): RateCount | undefined {
  if (!charge || (!eachCall && (charge.issued || charge.state))) return undefined;
  charge.issued = true;
  return charge.count;
}

/** Records the count an admission took. */
export function recordCount(charge: RateCharge | undefined, state: RateState | undefined): void {
  if (!charge || !state) return;
  charge.state = state;
  charge.countedAt = Date.now();
}

/** The 429 of a request over its rate limit; with `resetMs`, it carries Retry-After (the seconds left in the window). */
export function rateExceeded(
  who: string,
  count: Pick<RateCount, 'limit' | 'windowMs'>,
  resetMs?: number,
): ServiceError {
  const headers: Record<string, string> =
    resetMs === undefined ? {} : { 'Retry-After': String(Math.max(1, Math.ceil(resetMs / 1000))) };
  return new ServiceError(
    'rate_limited',
    `rate limit exceeded: ${who} may send ${count.limit} requests per ${Math.round(count.windowMs / 1000)} s`,
    { headers },
  );
}
