/**
 * The design Tessera replaced, kept as a benchmark contender: one Express process that parses
 * each request and calls `session.run` for it in-process. No queue, no batching, no second tier.
 * It speaks the same Open Inference Protocol subset as the gateway, so the load generator sends
 * identical requests to both.
 *
 * Environment: PORT (required), HOST (127.0.0.1), MODEL_REPOSITORY, MODELS (comma-separated; all),
 * INTRA_OP_THREADS (1), BODY_LIMIT (64mb).
 */
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response } from 'express';
import type ort from 'onnxruntime-node';
import { datatypeFromOrt, ServiceError, statusOf, validateInferenceRequest, type ModelSpec } from '@tessera/contract';
import { loadRepository } from '@tessera/model-repository';
import { createSession, toOrt } from './ort-session.js';

interface Loaded {
  spec: ModelSpec;
  session: ort.InferenceSession;
}

function jsonData(t: ort.Tensor): unknown[] {
  const d = t.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, (v) => Number(v));
  if (t.type === 'bool') return Array.from(d as Uint8Array, (v) => v !== 0);
  return Array.from(d as ArrayLike<number>);
}

export async function startSeedServer(opts: {
  port: number;
  host?: string;
  repository: string;
  models?: string[];
  intraOpThreads: number;
  bodyLimit?: string;
}): Promise<Server> {
  const repository = await loadRepository(opts.repository);
  const names = opts.models && opts.models.length > 0 ? opts.models : repository.names();
  const loaded = new Map<string, Loaded>();
  for (const name of names) {
    const spec = repository.get(name);
    if (!spec)
      throw new Error(`model '${name}' is not in ${opts.repository} (it has ${repository.names().join(', ')})`);
    loaded.set(name, { spec, session: await createSession(spec.file, opts.intraOpThreads) });
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: opts.bodyLimit ?? '64mb' }));
  const live = (_req: Request, res: Response) => void res.json({ live: true, ready: true });
  for (const path of ['/live', '/ready', '/health', '/v2/health/live', '/v2/health/ready']) app.get(path, live);
  app.get('/v2/models/:name/ready', (req: Request<{ name: string }>, res: Response) => {
    const ready = loaded.has(req.params.name);
    res.status(ready ? 200 : 404).json({ name: req.params.name, ready });
  });

  app.post('/v2/models/:name/infer', async (req: Request<{ name: string }>, res: Response) => {
    const started = performance.now();
    const entry = loaded.get(req.params.name);
    if (!entry) throw new ServiceError('model_not_found', `model '${req.params.name}' is not served here`);
    const { spec, session } = entry;
    const validated = validateInferenceRequest(spec, req.body);
    const feeds = Object.fromEntries(validated.tensors.map((t) => [t.name, toOrt(t)]));
    const computeStart = performance.now();
    const results = await session.run(feeds);
    const computeMs = performance.now() - computeStart;
    const names = validated.outputs ?? spec.outputs.map((o) => o.name);
    const id = (req.body as { id?: string }).id;
    res.json({
      model_name: spec.name,
      model_version: spec.version,
      ...(id !== undefined ? { id } : {}),
      parameters: { compute_ms: computeMs, total_ms: performance.now() - started, batch_size: validated.items },
      outputs: names.map((name) => {
        const t = results[name]!;
        return { name, datatype: datatypeFromOrt(t.type) ?? t.type, shape: [...t.dims], data: jsonData(t) };
      }),
    });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number }).status;
    if (err instanceof ServiceError) {
      res.status(statusOf(err.code)).json({ error: err.message, code: err.code });
    } else if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: (err as Error).message, code: 'bad_request' });
    } else {
      res.status(500).json({ error: err instanceof Error ? err.message : String(err), code: 'internal' });
    }
  });

  return new Promise((resolve, reject) => {
    const server = app.listen(opts.port, opts.host ?? '127.0.0.1', (err?: Error) =>
      err ? reject(err) : resolve(server),
    );
    server.keepAliveTimeout = 65_000;
  });
}

function main(): void {
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set to a port number');
  const models = (process.env.MODELS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  startSeedServer({
    port,
    host: process.env.HOST ?? '127.0.0.1',
    repository: process.env.MODEL_REPOSITORY ?? '.run/models',
    models,
    intraOpThreads: Number(process.env.INTRA_OP_THREADS ?? '1'),
    bodyLimit: process.env.BODY_LIMIT ?? '64mb',
  }).then(
    (server) => {
      process.stdout.write(
        `seed server on http://${process.env.HOST ?? '127.0.0.1'}:${port} serving ${models.join(', ') || 'every model'}\n`,
      );
      const stop = () => server.close(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (err: unknown) => {
      process.stderr.write(`seed server failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
