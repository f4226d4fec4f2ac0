import { Router } from 'express';
import { fromWire, ServiceError, validateInferenceRequest } from '@tessera/contract';
import type { ApiContext } from '../context.js';
import { nest, toJsonData } from '../encode.js';
import { resolveModel } from '../models.js';
import { predictToOip } from '../predict-input.js';
import { runInference } from '../run-inference.js';
import { setTimingHeaders } from '../timing.js';

interface PredictBody {
  model?: unknown;
  version?: unknown;
  inputs?: unknown;
  texts?: unknown;
  outputs?: unknown;
}

/**
 * The convenience endpoint: `{"model", "inputs"}` (or `{"texts"}` for text models) in, one
 * result object per item out, with the request's timings.
 */
export function predictRouter(ctx: ApiContext): Router {
  const r = Router();
  r.post('/predict', async (req, res) => {
    const body = req.body as PredictBody | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ServiceError('bad_request', 'request body must be a JSON object');
    if (body.model !== undefined && typeof body.model !== 'string') throw new ServiceError('bad_request', "'model' must be a string");
    if (body.version !== undefined && typeof body.version !== 'string') throw new ServiceError('bad_request', "'version' must be a string");
    const model = resolveModel(ctx, body.model ?? ctx.config.DEFAULT_MODEL, body.version);
    if (body.texts !== undefined) {
      throw new ServiceError('invalid_input', `model '${model.name}' takes tensors, not texts; send 'inputs' (${model.inputs.map((s) => `'${s.name}' ${s.datatype} [-1,${s.shape.join(',')}]`).join(', ')})`);
    }
    if (body.inputs === undefined) throw new ServiceError('bad_request', "'inputs' is required");
    const validated = validateInferenceRequest(model, predictToOip(model, body.inputs, body.outputs));
    const { result, timing } = await runInference(ctx, req, model, validated);
    setTimingHeaders(res, timing);

    const outputs = result.outputs.map(fromWire);
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
    res.json({ model: model.name, version: model.version, results, latency_ms: timing.total_ms, timing, execution_provider: result.provider });
  });
  return r;
}
