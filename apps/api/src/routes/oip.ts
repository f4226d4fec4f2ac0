import { Router, type Request, type Response } from 'express';
import { metadataShape, validateInferenceRequest, type InferenceResponse, type ModelMetadataResponse, type RepositoryIndexEntry, type ServerMetadataResponse } from '@tessera/contract';
import { assertModelAccess, mayUseModel } from '../auth/authenticate.js';
import type { ApiContext } from '../context.js';
import { toBinaryOutputs, toResponseOutputs } from '../encode.js';
import { idempotencyKeyOf } from '../idempotency-key.js';
import { setOutcomeHeaders } from '../outcome-headers.js';
import { resolveModel } from '../models.js';
import { traced } from '../middleware/trace.js';
import { runInference } from '../run-inference.js';
import { setTimingHeaders } from '../timing.js';
import { readiness } from './service.js';

export const SERVER_NAME = 'tessera';
export const SERVER_VERSION = '0.1.0';

type ModelParams = { name: string; version?: string };

/** Open Inference Protocol (KServe v2) REST endpoints, plus Triton's repository index. */
export function oipRouter(ctx: ApiContext): Router {
  const r = Router();

  r.get('/v2', (_req, res) => {
    const body: ServerMetadataResponse = { name: SERVER_NAME, version: SERVER_VERSION, extensions: ['model_repository', 'schedule_policy'] };
    res.json(body);
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
    const body: ModelMetadataResponse = {
      name: model.name,
      versions: ctx.repository.versions(model.name),
      platform: model.platform,
      inputs: model.inputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: metadataShape(model, s) })),
      outputs: model.outputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: metadataShape(model, s) })),
    };
    return ctx.workers.live().then(
      (workers) => {
        const key = `${model.name}@${model.version}`;
        const providers = [...new Set(workers.flatMap((w) => (w.providers[key] ? [w.providers[key]!] : [])))];
        body.parameters = {
          version: model.version,
          max_batch_size: model.maxBatchSize,
          max_queue_delay_ms: model.maxQueueDelayMs,
          execution_provider: providers.join(',') || 'none',
          workers: workers.filter((w) => w.models.includes(key)).length,
          ...model.labels,
        };
        res.json(body);
      },
      () => res.json(body),
    );
  };
  r.get('/v2/models/:name', metadata);
  r.get('/v2/models/:name/versions/:version', metadata);

  const modelReady = async (req: Request<ModelParams>, res: Response) => {
    assertModelAccess(req, req.params.name);
    const model = resolveModel(ctx, req.params.name, req.params.version);
    const serving = await ctx.workers.serving(model.name, model.version).catch(() => []);
    const ready = serving.length > 0;
    res.status(ready ? 200 : 503).json(ready ? { name: model.name, ready } : { name: model.name, ready, error: `no live worker serves model '${model.name}' version ${model.version}` });
  };
  r.get('/v2/models/:name/ready', modelReady);
  r.get('/v2/models/:name/versions/:version/ready', modelReady);

  const infer = async (req: Request<ModelParams>, res: Response) => {
    assertModelAccess(req, req.params.name);
    const model = resolveModel(ctx, req.params.name, req.params.version);
    const validated = traced(res, 'validate', () => validateInferenceRequest(model, req.body, req.binaryData));
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
    const workers = await ctx.workers.live().catch(() => []);
    const served = new Set(workers.flatMap((w) => w.models));
    const rows: RepositoryIndexEntry[] = ctx.repository.all().filter((m) => mayUseModel(req, m.name)).map((m) => {
      const ready = served.has(`${m.name}@${m.version}`);
      return ready ? { name: m.name, version: m.version, state: 'READY' } : { name: m.name, version: m.version, state: 'UNAVAILABLE', reason: 'no live worker serves this version' };
    });
    res.json(onlyReady ? rows.filter((x) => x.state === 'READY') : rows);
  });

  return r;
}
