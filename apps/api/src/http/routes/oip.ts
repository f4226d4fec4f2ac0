import type { Request, Response, Router } from 'express';
import { parseRequest, validateInferenceRequest, type InferenceResponse } from '@tessera/contract';
import {
  ModelParamsSchema,
  RepositoryIndexRequestSchema,
  RepositoryModelRequestSchema,
  type ModelReady,
} from '../openapi/schemas.js';
import { assertModelAccess, mayUseModel, requireScope } from '../../auth/authenticate.js';
import type { ApiContext } from '../../context.js';
import { idempotencyKeyOf } from '../../inference/idempotency-key.js';
import { resolveModel, resolveRequested } from '../../inference/models.js';
import { modelMetadata, modelReadiness, serverMetadata } from '../../oip/answers.js';
import { classificationsOf, classifyOutputs, encodeOutputs } from '../../oip/classification.js';
import { tritonModelConfig } from '../../oip/model-config.js';
import { loadModel, repositoryIndex, unloadModel } from '../../oip/repository.js';
import { modelStatistics } from '../../oip/statistics.js';
import { setInferenceHeaders } from '../encoding/outcome-headers.js';
import { responseCompression } from '../middleware/compression.js';
import { protectedRouter } from '../middleware/access.js';
import { traced } from '../middleware/trace.js';

type ModelParams = { name: string; version?: string };
/** Every route's model name and version (the statistics of all models name none). */
const PATH_PARAMS = ModelParamsSchema.partial();
type Handler<P> = (ctx: ApiContext, req: Request<P>, res: Response) => unknown;

/**
 * Open Inference Protocol (KServe v2) REST endpoints, plus Triton's extensions: each needs a key
 * with the `infer` scope (model control also `admin`; the health endpoints are public, in
 * service.ts).
 */
export function oipRouter(ctx: ApiContext): Router {
  const r = protectedRouter(ctx, 'infer');
  const on =
    <P>(handler: Handler<P>) =>
    (req: Request<P>, res: Response) => {
      parseRequest(PATH_PARAMS, req.params);
      return handler(ctx, req, res);
    };
  // Inference skips the parse above: the router's own template already gives it two non-empty
  // strings, and its per-request cost is kept to the body's envelope.
  const onInfer = (req: Request<ModelParams>, res: Response) => infer(ctx, req, res);

  r.get('/v2', on(serverMetadataHandler));
  // Triton's statistics extension (before /v2/models/:name, which would take 'stats' for a model name).
  r.get('/v2/models/stats', on(statistics));
  r.get('/v2/models/:name/stats', on(statistics));
  r.get('/v2/models/:name/versions/:version/stats', on(statistics));
  r.get('/v2/models/:name', on(metadata));
  r.get('/v2/models/:name/versions/:version', on(metadata));
  r.get('/v2/models/:name/ready', on(modelReady));
  r.get('/v2/models/:name/versions/:version/ready', on(modelReady));
  // Only inference responses are compressed, as Triton does: its asyncio client reads every
  // other response as plain JSON while aiohttp asks for gzip on each of them.
  const compress = responseCompression();
  r.post('/v2/models/:name/infer', compress, onInfer);
  r.post('/v2/models/:name/versions/:version/infer', compress, onInfer);
  // Triton's model-repository extension: every model version and its state, load and unload.
  r.post('/v2/repository/index', on(repository));
  r.post('/v2/repository/models/:name/load', requireScope('admin'), on(load));
  r.post('/v2/repository/models/:name/unload', requireScope('admin'), on(unload));
  // Triton's model-configuration extension.
  r.get('/v2/models/:name/config', on(modelConfig));
  r.get('/v2/models/:name/versions/:version/config', on(modelConfig));
  return r;
}

export function serverMetadataHandler(_ctx: ApiContext, _req: Request, res: Response): void {
  res.json(serverMetadata());
}

/** Triton's statistics extension, across every replica and worker. */
export async function statistics(ctx: ApiContext, req: Request<Partial<ModelParams>>, res: Response): Promise<void> {
  const { name, version } = req.params;
  if (name !== undefined) assertModelAccess(req, name);
  const models =
    name === undefined
      ? ctx.repository.all().filter((m) => mayUseModel(req, m.name))
      : version !== undefined
        ? [resolveModel(ctx, name, version)]
        : ctx.repository.versions(resolveModel(ctx, name).name).map((v) => ctx.repository.get(name, v)!);
  res.json(await modelStatistics(ctx.statistics, models));
}

export async function metadata(ctx: ApiContext, req: Request<ModelParams>, res: Response): Promise<void> {
  assertModelAccess(req, req.params.name);
  const model = resolveModel(ctx, req.params.name, req.params.version);
  res.json(await modelMetadata(ctx, model));
}

export async function modelReady(ctx: ApiContext, req: Request<ModelParams>, res: Response): Promise<void> {
  assertModelAccess(req, req.params.name);
  const model = resolveModel(ctx, req.params.name, req.params.version);
  const { ready, reason } = await modelReadiness(ctx, model);
  const body: ModelReady = ready ? { name: model.name, ready } : { name: model.name, ready, error: reason };
  res.status(ready ? 200 : 503).json(body);
}

/** POST /v2/models/{name}[/versions/{version}]/infer: validate, run (inference/infer.ts), encode. */
export async function infer(ctx: ApiContext, req: Request<ModelParams>, res: Response): Promise<void> {
  assertModelAccess(req, req.params.name);
  const model = await resolveRequested(ctx, req.params.name, req.params.version);
  const validated = traced(res, 'validate', () => validateInferenceRequest(model, req.body, req.binaryData));
  const {
    id,
    parameters,
    outputs: asked,
  } = req.body as { id?: string; parameters?: { idempotency_key?: unknown }; outputs?: unknown };
  const classifications = classificationsOf(asked);
  const outcome = await ctx.infer.run(req, model, validated, {
    idempotencyKey: idempotencyKeyOf(req, parameters?.idempotency_key),
  });
  const { result, timing } = outcome;
  setInferenceHeaders(res, req, timing, outcome);
  const { outputs, chunks } = encodeOutputs(
    result.outputs,
    validated.binaryOutputs,
    await classifyOutputs(model, result.outputs, classifications),
  );
  const body: InferenceResponse = {
    model_name: model.name,
    model_version: model.version,
    ...(id !== undefined ? { id } : {}),
    parameters: {
      ...timing,
      execution_provider: result.provider,
      cache: outcome.cache,
      ...(outcome.replayed ? { idempotent_replay: true } : {}),
    },
    outputs,
  };
  if (!validated.binaryOutputs) {
    res.json(body);
    return;
  }
  // The binary tensor data extension: requested outputs as raw bytes after the JSON header.
  const header = Buffer.from(JSON.stringify(body));
  res.setHeader('Inference-Header-Content-Length', String(header.byteLength));
  res.type('application/octet-stream').send(Buffer.concat([header, ...chunks]));
}

export async function repository(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const onlyReady = parseRequest(RepositoryIndexRequestSchema, req.body)?.ready === true;
  const rows = await repositoryIndex(ctx, (name) => mayUseModel(req, name));
  res.json(onlyReady ? rows.filter((x) => x.state === 'READY') : rows);
}

export async function load(ctx: ApiContext, req: Request<ModelParams>, res: Response): Promise<void> {
  assertModelAccess(req, req.params.name);
  await loadModel(ctx, req.params.name, parseRequest(RepositoryModelRequestSchema, req.body)?.parameters ?? {});
  res.json({});
}

export async function unload(ctx: ApiContext, req: Request<ModelParams>, res: Response): Promise<void> {
  assertModelAccess(req, req.params.name);
  parseRequest(RepositoryModelRequestSchema, req.body); // unload_dependents: no model here depends on another
  await unloadModel(ctx, req.params.name);
  res.json({});
}

export async function modelConfig(ctx: ApiContext, req: Request<ModelParams>, res: Response): Promise<void> {
  assertModelAccess(req, req.params.name);
  const model = resolveModel(ctx, req.params.name, req.params.version);
  res.json(tritonModelConfig(model, await ctx.workers.live().catch(() => []), ctx.config));
}
