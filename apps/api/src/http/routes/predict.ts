import type { Request, Response, Router } from 'express';
import { fromWire, parseRequest, ServiceError, validateInferenceRequest, type Pipeline } from '@tessera/contract';
import { PREDICT_CONTENT, PredictRequestSchema, type PredictResponse } from '../openapi/schemas.js';
import { assertModelAccess } from '../../auth/authenticate.js';
import type { ApiContext } from '../../context.js';
import { idempotencyKeyOf } from '../../inference/idempotency-key.js';
import { setInferenceHeaders } from '../encoding/outcome-headers.js';
import { nest, toJsonData } from '../encoding/tensors.js';
import { resolveRequested } from '../../inference/models.js';
import { predictToOip } from '../encoding/predict-input.js';
import { elapsedMs } from '../middleware/request-id.js';
import { traced } from '../middleware/trace.js';
import { pipelineInfer } from '../../inference/pipeline-infer.js';
import { protectedRouter } from '../middleware/access.js';

const OTHER_INPUT = { texts: 'images', images: 'texts' } as const;

async function predictWithPipeline(
  ctx: ApiContext,
  req: Request,
  res: Response,
  pipeline: Pipeline,
  body: Record<string, unknown>,
): Promise<void> {
  const wrong = OTHER_INPUT[pipeline.input];
  if (body[wrong] !== undefined || body.inputs !== undefined) {
    throw new ServiceError(
      'invalid_input',
      `model '${pipeline.name}' takes '${pipeline.input}', not '${body[wrong] !== undefined ? wrong : 'inputs'}'`,
    );
  }
  if (body[pipeline.input] === undefined)
    throw new ServiceError('bad_request', `'${pipeline.input}' is required for model '${pipeline.name}'`);
  const { infer, totals } = pipelineInfer(ctx, req, body.version as string | undefined);
  const results = await pipeline.predict(body, infer);
  const timing = {
    total_ms: Math.round(elapsedMs(req) * 1000) / 1000,
    queue_ms: Math.round(totals.queueMs * 1000) / 1000,
    compute_ms: Math.round(totals.computeMs * 1000) / 1000,
    batch_size: totals.batchSize,
  };
  setInferenceHeaders(res, req, timing, totals.calls > 0 ? { cache: totals.cache, replayed: false } : undefined);
  res.json({
    model: pipeline.name,
    versions: totals.versions,
    results,
    latency_ms: timing.total_ms,
    timing: { ...timing, inference_calls: totals.calls },
    execution_provider: totals.provider,
  } satisfies PredictResponse);
}

/**
 * The convenience endpoint: `{"model", "inputs"}` (or `{"texts"}` for text models) in, one
 * result object per item out, with the request's timings.
 */
export function predictRouter(ctx: ApiContext): Router {
  const r = protectedRouter(ctx, 'infer');
  r.post('/predict', (req, res) => predict(ctx, req, res));
  return r;
}

/** POST /predict: a text or image model's pipeline, or tensors in the shorthand, each item's result out. */
export async function predict(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const body = parseRequest(PredictRequestSchema, req.body, PREDICT_CONTENT);
  const name = body.model ?? ctx.config.DEFAULT_MODEL;
  assertModelAccess(req, name);
  const pipeline = ctx.pipelines.get(name);
  if (pipeline) {
    // The pipeline reads its own options (lid176's k) from the body as sent.
    await predictWithPipeline(ctx, req, res, pipeline, req.body as Record<string, unknown>);
    return;
  }
  const model = await resolveRequested(ctx, name, body.version);
  for (const field of ['texts', 'images'] as const) {
    if (body[field] !== undefined) {
      throw new ServiceError(
        'invalid_input',
        `model '${model.name}' takes tensors, not ${field}; send 'inputs' (${model.inputs.map((s) => `'${s.name}' ${s.datatype} [-1,${s.shape.join(',')}]`).join(', ')})`,
      );
    }
  }
  if (body.inputs === undefined) throw new ServiceError('bad_request', "'inputs' is required");
  const validated = traced(res, 'validate', () =>
    validateInferenceRequest(model, predictToOip(model, body.inputs, body.outputs)),
  );
  const outcome = await ctx.infer.run(req, model, validated, { idempotencyKey: idempotencyKeyOf(req) });
  const { result, timing } = outcome;
  setInferenceHeaders(res, req, timing, outcome);

  const outputs = result.outputs.map((w) => fromWire(w));
  const results = Array.from({ length: validated.items }, (_, i) => {
    const item: Record<string, unknown> = {};
    for (const t of outputs) {
      const rowShape = t.shape.slice(1);
      const stride = rowShape.reduce((a, b) => a * b, 1);
      const flat = toJsonData({ ...t, shape: [stride], data: t.data.subarray(i * stride, (i + 1) * stride) });
      item[t.name] = nest(flat, rowShape);
    }
    return item;
  });
  res.json({
    model: model.name,
    version: model.version,
    results,
    latency_ms: timing.total_ms,
    timing,
    execution_provider: result.provider,
    cache: outcome.cache,
  } satisfies PredictResponse);
}
