import type { Request, Response } from 'express';
import type { InferenceOutcome } from '../../inference/infer.js';
import type { RequestTiming } from '../../inference/timing.js';
import { setRateHeaders } from '../middleware/rate-limit.js';

/**
 * What an inference answer says in its headers: its timings, named as text-embeddings-inference
 * names them; `X-Cache: hit|miss|off`, and `Idempotent-Replayed: true` when a retry got the
 * original's answer (when `outcome` is given); the rate-limit count the admission took.
 */
export function setInferenceHeaders(
  res: Response,
  req: Request,
  timing: RequestTiming,
  outcome: Pick<InferenceOutcome, 'cache' | 'replayed'> | undefined,
): void {
  res.setHeader('X-Total-Time', String(timing.total_ms));
  res.setHeader('X-Queue-Time', String(timing.queue_ms));
  res.setHeader('X-Inference-Time', String(timing.compute_ms));
  res.setHeader('X-Batch-Size', String(timing.batch_size));
  if (outcome) {
    res.setHeader('X-Cache', outcome.cache);
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
  }
  setRateHeaders(res, req);
}
