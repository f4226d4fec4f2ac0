import { Router, type Request, type Response } from 'express';
import { validateInferenceRequest, type InferenceResponse } from '@tessera/contract';
import { assertModelAccess } from '../auth/authenticate.js';
import type { ApiContext } from '../context.js';
import { toBinaryOutputs, toResponseOutputs } from '../encode.js';
import { idempotencyKeyOf } from '../idempotency-key.js';
import { setOutcomeHeaders } from '../outcome-headers.js';
import { resolveModel } from '../models.js';
import { modelMetadata, modelReadiness, repositoryIndex, serverMetadata } from '../oip-answers.js';
import { runInference } from '../run-inference.js';
import { setTimingHeaders } from '../timing.js';
import { readiness } from './service.js';

type ModelParams = { name: string; version?: string };

/** Open Inference Protocol (KServe v2) REST endpoints, plus Triton's repository index. */
export function oipRouter(ctx: ApiContext): Router {
  const r = Router();

  r.get('/v2', (_req, res) => {
    res.json(serverMetadata());
  });

  r.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });

  r.get('/v2/health/ready', async (_req, res) => {
    const { ready, reason } = await readiness(ctx);
    res.status(ready ? 200 : 503).json(ready ? { ready } : { ready, error: reason });
  });

  const metadata = (req: Request<ModelParams>, res: Response) => {
    assertModelAccess(req, req.params.name);
    const model = resolveModel(ctx, req.params.name, req.params.version);
    return modelMetadata(ctx, model).then((body) => res.json(body));
  };
  r.get('/v2/models/:name', metadata);
  r.get('/v2/models/:name/versions/:version', metadata);

  const modelReady = async (req: Request<ModelParams>, res: Response) => {
    assertModelAccess(req, req.params.name);
    const model = resolveModel(ctx, req.params.name, req.params.version);
    const { ready, reason } = await modelReadiness(ctx, model);
    res.status(ready ? 200 : 503).json(ready ? { name: model.name, ready } : { name: model.name, ready, error: reason });
  };
  r.get('/v2/models/:name/ready', modelReady);
  r.get('/v2/models/:name/versions/:version/ready', modelReady);

  const infer = async (req: Request<ModelParams>, res: Response) => {
    assertModelAccess(req, req.params.name);
    const model = resolveModel(ctx, req.params.name, req.params.version);
    const validated = validateInferenceRequest(model, req.body, req.binaryData);
    const id = (req.body as { id?: string }).id;
    const outcome = await runInference(ctx, req, model, validated, { idempotencyKey: idempotencyKeyOf(req, id) });
    const { result, timing } = outcome;
    setTimingHeaders(res, timing);
    setOutcomeHeaders(res, outcome);
    const body: InferenceResponse = {
      model_name: model.name,
      model_version: model.version,
      ...(id !== undefined ? { id } : {}),
      parameters: { ...timing, execution_provider: result.provider, cache: outcome.cache, ...(outcome.replayed ? { idempotent_replay: true } : {}) },
      outputs: [],
    };
    if (!validated.binaryOutputs) {
      body.outputs = toResponseOutputs(result.outputs);
      res.json(body);
      return;
    }
    // The binary tensor data extension: requested outputs as raw bytes after the JSON header.
    const { outputs, chunks } = toBinaryOutputs(result.outputs, validated.binaryOutputs);
    body.outputs = outputs;
    const header = Buffer.from(JSON.stringify(body));
    res.setHeader('Inference-Header-Content-Length', String(header.byteLength));
    res.type('application/octet-stream').send(Buffer.concat([header, ...chunks]));
  };
  r.post('/v2/models/:name/infer', infer);
  r.post('/v2/models/:name/versions/:version/infer', infer);

  // Triton's model-repository extension: every model version and whether a worker serves it.
  r.post('/v2/repository/index', async (req, res) => {
    const onlyReady = (req.body as { ready?: unknown } | undefined)?.ready === true;
    res.json(await repositoryIndex(ctx, req, onlyReady));
  });

  return r;
}
