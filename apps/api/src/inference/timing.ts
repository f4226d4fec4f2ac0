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
