import type { Response } from 'express';
import type { InferJobResult } from '@tessera/contract';

export interface RequestTiming {
  total_ms: number;
  queue_ms: number;
  compute_ms: number;
  batch_size: number;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function timingOf(result: InferJobResult, totalMs: number): RequestTiming {
  return {
    total_ms: round(totalMs),
    queue_ms: round(result.timing.queueMs),
    compute_ms: round(result.timing.computeMs),
    batch_size: result.timing.batchSize,
  };
}

/** The same numbers as headers, named as text-embeddings-inference names them. */
export function setTimingHeaders(res: Response, t: RequestTiming): void {
  res.setHeader('X-Total-Time', String(t.total_ms));
  res.setHeader('X-Queue-Time', String(t.queue_ms));
  res.setHeader('X-Inference-Time', String(t.compute_ms));
  res.setHeader('X-Batch-Size', String(t.batch_size));
}
