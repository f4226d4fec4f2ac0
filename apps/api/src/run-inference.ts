import type { Request } from 'express';
import type { InferJobResult, ModelSpec, ValidatedRequest } from '@tessera/contract';
import type { ApiContext } from './context.js';
import { requireServed } from './models.js';
import { elapsedMs } from './middleware/request-id.js';
import { timingOf, type RequestTiming } from './timing.js';

/** Shared by /infer and /predict: admission, enqueue, wait, and the per-request metrics. */
export async function runInference(ctx: ApiContext, req: Request, model: ModelSpec, request: ValidatedRequest): Promise<{ result: InferJobResult; timing: RequestTiming }> {
  await requireServed(ctx, model);
  ctx.metrics.inFlight.inc();
  try {
    const result = await ctx.inferClient.infer(model, request, { requestId: req.id, timeoutMs: ctx.config.REQUEST_TIMEOUT_MS });
    const timing = timingOf(result, elapsedMs(req));
    ctx.metrics.queueWait.observe({ model: model.name }, timing.queue_ms / 1000);
    ctx.metrics.compute.observe({ model: model.name }, timing.compute_ms / 1000);
    ctx.metrics.batchSize.observe({ model: model.name }, timing.batch_size);
    return { result, timing };
  } finally {
    ctx.metrics.inFlight.dec();
  }
}
