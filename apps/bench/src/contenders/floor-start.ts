import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, ManagedProcess, redisCommand, startNginx, startRedis, waitFor } from '@tessera/topology';
import type { Watched } from '../measure/proc-stats.js';
import { readyKey } from './floor-protocol.js';
import { modelNames } from './model-version.js';
import type { Target, TargetOptions } from './start.js';

const READY_TIMEOUT_MS = 180_000;

/**
 * The floor: this design's processes and hops with none of its features. nginx (the project's
 * nginx.conf), `replicas` minimal HTTP handlers, Redis (as the stack starts it, without
 * passwords) and one minimal worker: one LPUSH per request, one blocking pop per batch, one
 * PUBLISH per answer. What the full stack spends beyond it is the cost of its code.
 */
export async function startFloor(opts: TargetOptions): Promise<Target> {
  const stoppers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };
  const watched: Watched[] = [];
  const node = (name: string, file: string, env: Record<string, string>) =>
    ManagedProcess.start({
      name,
      command: process.execPath,
      args: [fileURLToPath(new URL(file, import.meta.url))],
      env: { ...process.env, ...env },
      logFile: join(opts.logDir, `${name}.log`),
      echo: opts.verbose,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 5000,
    });
  try {
    const redis = await startRedis({ dir: join(opts.logDir, 'redis'), logDir: opts.logDir, auth: false });
    stoppers.push(() => redis.stop());
    const models = modelNames(opts.models);
    const worker = await node('worker-1', './floor-worker.js', {
      REDIS_URL: redis.url,
      MODEL_REPOSITORY: opts.modelRepository,
      MODELS: models.join(','),
      INTRA_OP_THREADS: String(opts.intraOpThreads),
    });
    stoppers.push(() => worker.stop());
    const apiPorts: number[] = [];
    const apis: ManagedProcess[] = [];
    for (let i = 1; i <= opts.replicas; i++) {
      const port = await freePort();
      const api = await node(`api-${i}`, './floor-api.js', {
        PORT: String(port),
        REDIS_URL: redis.url,
        REPLICA_ID: `api-${i}`,
      });
      stoppers.push(() => api.stop());
      apiPorts.push(port);
      apis.push(api);
    }
    const nginx = await startNginx({ listenPort: await freePort(), apiPorts, prefix: join(opts.logDir, 'nginx') });
    stoppers.push(() => nginx.stop());
    for (const model of models)
      await waitFor(
        `the floor worker to load ${model}`,
        async () => (await redisCommand(redis.port, redis.host, ['EXISTS', readyKey(model)])) === 1,
        {
          timeoutMs: READY_TIMEOUT_MS,
          intervalMs: 200,
          abort: worker.exitAsError(),
        },
      );
    watched.push({ name: 'nginx', pid: nginx.process.pid, group: true });
    for (const [i, api] of apis.entries()) watched.push({ name: `api-${i + 1}`, pid: api.pid, group: false });
    watched.push({ name: 'redis', pid: redis.process.pid, group: false });
    watched.push({ name: 'worker-1', pid: worker.pid, group: false });
    return {
      name: 'floor',
      baseUrl: nginx.url,
      headers: {},
      watched,
      workerMetricsUrl: undefined,
      logDir: opts.logDir,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
