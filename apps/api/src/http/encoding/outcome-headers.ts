import type { Response } from 'express';
import type { InferenceOutcome } from '../../inference/infer.js';

/** `X-Cache: hit|miss|off`, and `Idempotent-Replayed: true` when a retry got the original's answer. */
export function setOutcomeHeaders(res: Response, outcome: Pick<InferenceOutcome, 'cache' | 'replayed'>): void {
  res.setHeader('X-Cache', outcome.cache);
  if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
}
