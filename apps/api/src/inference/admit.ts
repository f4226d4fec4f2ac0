import { ServiceError } from '@tessera/contract';
import type { JobCoalescer } from './coalescer.js';
import type { EnqueuedJob } from './enqueue.js';
import { rateExceeded, recordCount, type RateCharge } from './rate-charge.js';
import type { Submission } from './submission.js';

/**
 * The admission, as one step: the submission goes into a job (with others that arrive
 * together, see JobCoalescer), and what the admission decided becomes the request's answer.
 * The rate-limit count it took is recorded in `charge`, whatever the decision: the transport
 * reports it (headers) on the answer, a refusal included.
 *
 * Who answers when it fails (nothing was queued for the request in every case):
 * - over its rate limit: `rate_limited` (429, Retry-After: the rest of the window);
 * - its key holds its whole share of the model's queue cap, or the cap is full: `overloaded` (429);
 * - Redis does not answer, or the job add fails: `not_ready` (503).
 */
export async function admit(
  coalescer: JobCoalescer,
  sub: Submission,
  charge: RateCharge | undefined,
): Promise<{ job: EnqueuedJob } | { cached: string }> {
  const admitted = await coalescer.submit(sub);
  recordCount(charge, admitted.rate);
  switch (admitted.kind) {
    case 'queued':
      return { job: admitted.job };
    case 'cached':
      return { cached: admitted.json };
    case 'failed':
      throw admitted.error;
    case 'refused':
      throw refusal(sub, admitted.why, admitted.inFlight, charge, admitted.rate?.resetMs);
  }
}

function refusal(
  sub: Submission,
  why: 'rate_limited' | 'over_share' | 'overloaded',
  inFlight: number,
  charge: RateCharge | undefined,
  resetMs: number | undefined,
): ServiceError {
  const model = sub.model.name;
  if (why === 'rate_limited') return rateExceeded(charge?.who ?? 'this client', sub.admission.rate!, resetMs);
  if (why === 'over_share') {
    return new ServiceError(
      'overloaded',
      `model '${model}': this API key already has ${sub.admission.share!.maxItems} items queued or running, its share of the model's queue; retry when some are answered`,
      { headers: { 'Retry-After': '1' } },
    );
  }
  return new ServiceError(
    'overloaded',
    `model '${model}' is overloaded: ${inFlight} items are queued or running (limit ${sub.queueCap}); retry later`,
    { headers: { 'Retry-After': '1' } },
  );
}
