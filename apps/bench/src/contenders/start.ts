import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey, freePort, ManagedProcess, startStack, waitFor, waitForHttp } from '@tessera/topology';
import type { Watched } from '../measure/proc-stats.js';
import { modelNames, modelPath } from './model-version.js';

/** A running HTTP contender: where to send requests and which processes to account for. */
export interface Target {
  name: 'seed' | 'full' | 'floor';
  baseUrl: string;
  /** Headers every request carries (the full stack's API key). */
  headers: Record<string, string>;
  watched: Watched[];
  /** The worker's /metrics (full stack only). */
  workerMetricsUrl: string | undefined;
  logDir: string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  models: string[];
  modelRepository: string;
  intraOpThreads: number;
  /** API replicas (full stack only). */
  replicas: number;
  logDir: string;
  verbose: boolean;
  /** Variables for every service, on top of the bench's own environment. */
  env: Record<string, string>;
  /** Full stack: one worker per pool, serving the pool's models (default: one worker, all models). */
  pools?: string[][];
}

const READY_TIMEOUT_MS = 180_000;

async function waitModelsReady(
  baseUrl: string,
  models: readonly string[],
  abort?: Promise<never>,
  headers: Record<string, string> = {},
): Promise<void> {
  for (const model of models) {
    const url = `${baseUrl}${modelPath(model)}/ready`;
    if (Object.keys(headers).length === 0) {
      await waitForHttp(url, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, ...(abort ? { abort } : {}) });
      continue;
    }
    await waitFor(
      `GET ${url} → 200`,
      async () => (await fetch(url, { headers, signal: AbortSignal.timeout(5000) })).ok,
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 200 },
    );
  }
}

export async function startSeed(opts: TargetOptions): Promise<Target> {
  const port = await freePort();
  const entry = fileURLToPath(new URL('./seed-server.js', import.meta.url));
  const proc = await ManagedProcess.start({
    name: 'seed',
    command: process.execPath,
    args: [entry],
    env: {
      ...process.env,
      ...opts.env,
      PORT: String(port),
      MODEL_REPOSITORY: opts.modelRepository,
      MODELS: opts.models.join(','),
      INTRA_OP_THREADS: String(opts.intraOpThreads),
    },
    logFile: join(opts.logDir, 'seed.log'),
    echo: opts.verbose,
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 10_000,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitModelsReady(baseUrl, opts.models, proc.exitAsError());
  } catch (err) {
    await proc.stop({ timeoutMs: 2000 });
    throw err;
  }
  return {
    name: 'seed',
    baseUrl,
    headers: {},
    watched: [{ name: 'seed', pid: proc.pid, group: false }],
    workerMetricsUrl: undefined,
    logDir: opts.logDir,
    stop: async () => void (await proc.stop()),
  };
}

export async function startFullStack(opts: TargetOptions): Promise<Target> {
  const stack = await startStack({
    replicas: opts.replicas,
    workers: 1,
    modelRepository: opts.modelRepository,
    logDir: opts.logDir,
    echo: opts.verbose,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', DEFAULT_MODEL: modelNames(opts.models)[0]!, ...opts.env },
    workerEnv: {
      MODELS: (opts.pools?.[0] ?? modelNames(opts.models)).join(','),
      INTRA_OP_THREADS: String(opts.intraOpThreads),
    },
    // Readiness per model is checked below; liveness of the gateway is enough here.
    readyPath: '/v2/health/live',
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  let headers: Record<string, string> = {};
  try {
    // Measured as users run it: every request authenticates with a bearer key.
    for (const pool of opts.pools?.slice(1) ?? []) await stack.addWorker({ env: { MODELS: pool.join(',') } });
    if (opts.env.AUTH !== 'off')
      headers = {
        authorization: `Bearer ${(await createApiKey({ redisUrl: stack.redisUrl, name: 'bench', scopes: ['infer'] })).key}`,
      };
    await waitModelsReady(stack.gatewayUrl, opts.models, undefined, headers);
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
  const watched: Watched[] = [];
  for (const p of stack.processes) {
    const name = p.name;
    if (name === 'nginx') watched.push({ name: 'nginx', pid: p.pid, group: true });
    else watched.push({ name, pid: p.pid, group: false });
  }
  const order = (n: string) => (n === 'nginx' ? 0 : n.startsWith('api') ? 1 : n === 'redis' ? 2 : 3);
  watched.sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
  return {
    name: 'full',
    baseUrl: stack.gatewayUrl,
    headers,
    watched,
    workerMetricsUrl: stack.workerMetricsUrl,
    logDir: stack.logDir,
    stop: () => stack.stop(),
  };
}
