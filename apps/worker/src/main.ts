import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import { loadWorkerConfig, redact } from '@tessera/config';
import type { ModelSpec } from '@tessera/contract';
import { Scheduler } from '@tessera/batcher';
import { loadRepository } from '@tessera/model-repository';
import { Heartbeat, modelKey, workerInfoKey } from '@tessera/queue';
import { classifyRunError, createOrtRunner, isOutOfMemoryError } from '@tessera/runtime';
import { createLogger, initTracing } from '@tessera/telemetry';
import { startConsumer } from './consumer.js';
import { WorkerHealth } from './health.js';
import { startMetricsServer } from './http.js';
import { createWorkerMetrics, initModelSeries, registerGpuMetrics } from './metrics.js';
import { WorkerTracing } from './tracing.js';

const config = loadWorkerConfig();
const logger = createLogger({ service: 'worker', level: config.LOG_LEVEL, base: { worker: config.WORKER_ID } });

async function main(): Promise<void> {
  const tracing = initTracing('tessera-worker', config.OTEL_EXPORTER_OTLP_ENDPOINT, { 'service.instance.id': config.WORKER_ID });
  const traces = new WorkerTracing(tracing, config.WORKER_ID);
  const repository = await loadRepository(config.MODEL_REPOSITORY);
  const names = config.MODELS.length > 0 ? config.MODELS : repository.names();
  const unknown = names.filter((n) => repository.versions(n).length === 0);
  if (unknown.length > 0) throw new Error(`MODELS names unknown model(s) ${unknown.join(', ')}; the repository has ${repository.names().join(', ')}`);

  const runner = await createOrtRunner({ device: config.DEVICE, cudaDeviceId: config.CUDA_DEVICE_ID, intraOpNumThreads: config.INTRA_OP_THREADS, logger, ...(config.MEMORY_HEADROOM_MB > 0 ? { addressSpaceHeadroomMb: config.MEMORY_HEADROOM_MB } : {}) });
  const providers: Record<string, string> = {};
  const served = new Map<string, Map<string, ModelSpec>>();
  for (const name of names) {
    for (const version of repository.versions(name)) {
      const spec = repository.get(name, version)!;
      try {
        const { provider } = await runner.load(spec);
        providers[modelKey(name, version)] = provider;
        if (!served.has(name)) served.set(name, new Map());
        served.get(name)!.set(version, spec);
      } catch (err) {
        logger.error({ err, model: name, version }, 'model failed to load; not serving it');
      }
    }
  }
  if (served.size === 0) throw new Error('no model could be loaded');

  let scheduler!: Scheduler;
  const metrics = createWorkerMetrics({ worker: config.WORKER_ID, device: config.DEVICE, cudaDevice: config.CUDA_DEVICE_ID }, () => scheduler.pending());
  // Series appear only where nvidia-smi answers, i.e. on a host with a GPU.
  if (config.DEVICE !== 'cpu') registerGpuMetrics(metrics.registry, config.CUDA_DEVICE_ID);
  scheduler = new Scheduler({
    runner,
    isOutOfMemory: isOutOfMemoryError,
    classifyError: classifyRunError,
    growAfter: config.OOM_GROW_AFTER,
    tuning: config.BATCH_TUNING,
    events: {
      onBatch: (e) => {
        traces.batch(e);
        metrics.batchSize.observe({ model: e.model.name }, e.size);
        metrics.batchCompute.observe({ model: e.model.name, provider: e.provider }, e.computeMs / 1000);
        metrics.batchDelay.set({ model: e.model.name }, e.delayMs / 1000);
      },
      onOom: (e) => {
        metrics.oomEvents.inc({ model: e.model.name });
        logger.warn({ model: e.model.name, from: e.from, to: e.to }, 'out of memory: session recreated, batch cap halved, retrying the same items');
      },
      onCapChange: (e) => {
        metrics.batchCap.set({ model: e.model.name }, e.cap);
        // Tries of neighbouring caps are routine (a few batches each); decisions are worth a line.
        const level = e.reason === 'probe' ? 'debug' : 'info';
        logger[level]({ model: e.model.name, cap: e.cap, from: e.from, reason: e.reason, tuner: scheduler.describeCap(e.model) }, 'batch cap changed');
      },
    },
  });
  for (const [key, provider] of Object.entries(providers)) initModelSeries(metrics, key.slice(0, key.lastIndexOf('@')), provider);
  for (const versions of served.values()) {
    for (const spec of versions.values()) {
      metrics.batchCap.set({ model: spec.name }, scheduler.cap(spec));
      metrics.batchDelay.set({ model: spec.name }, 0);
    }
  }

  const redisUrl = config.REDIS_URL;
  const bullConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const replyConnection = new Redis(redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  for (const conn of [bullConnection, replyConnection]) conn.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));

  const consumers: Worker[] = [];
  for (const [name, versions] of served) {
    const largest = Math.max(...[...versions.values()].map((s) => Math.max(1, s.maxBatchSize)));
    consumers.push(
      startConsumer({
        name,
        versions,
        scheduler,
        bullConnection,
        replyConnection,
        prefix: config.QUEUE_PREFIX,
        workerId: config.WORKER_ID,
        // Twice the batch: while one batch runs, the next one can fill.
        concurrency: config.WORKER_CONCURRENCY || 2 * largest,
        lockDurationMs: config.LOCK_DURATION_MS,
        stalledIntervalMs: config.STALLED_INTERVAL_MS,
        logger,
        metrics,
        tracing: traces,
      }),
    );
  }

  const heartbeat = new Heartbeat(replyConnection, config.QUEUE_PREFIX, config.HEARTBEAT_INTERVAL_MS, () => {
    const caps: Record<string, number> = {};
    for (const versions of served.values()) for (const spec of versions.values()) caps[modelKey(spec.name, spec.version)] = scheduler.cap(spec);
    return { id: config.WORKER_ID, models: Object.keys(providers), providers, caps, startedAt };
  }, (err) => logger.warn({ err: (err as Error).message }, 'heartbeat failed'));
  const startedAt = Date.now();
  heartbeat.start();

  let stopping = false;
  const health = new WorkerHealth({
    ping: () => runner.ping(),
    models: () => (stopping ? 0 : served.size),
    registered: async () => (await replyConnection.exists(workerInfoKey(config.QUEUE_PREFIX, config.WORKER_ID))) === 1,
    pingTimeoutMs: config.LIVENESS_TIMEOUT_MS,
    loopBlockMs: config.EVENT_LOOP_BLOCK_MS,
  });
  health.start();
  const server: Server = await startMetricsServer(metrics.registry, config.METRICS_HOST, config.METRICS_PORT, {
    live: () => health.live(),
    ready: () => health.ready(),
    describe: () => ({ worker: config.WORKER_ID, device: config.DEVICE, cuda_device_id: config.CUDA_DEVICE_ID, providers, models: [...served.keys()] }),
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.METRICS_PORT;
  logger.info({ config: redact(config), providers, metricsPort: port }, `worker ready: serving ${[...served.keys()].join(', ')}; metrics on http://${config.METRICS_HOST}:${port}/metrics`);

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: taking no new jobs, finishing the jobs already taken');
    const force = setTimeout(() => {
      logger.error('shutdown grace period over; exiting with jobs still active (BullMQ re-queues them as stalled)');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    force.unref();
    health.stop();
    await heartbeat.stop(config.WORKER_ID).catch(() => {});
    // close() waits for every active job, i.e. for the batches holding them, to finish.
    await Promise.allSettled(consumers.map((c) => c.close()));
    await scheduler.drain();
    await runner.close().catch(() => {});
    await tracing.shutdown();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    bullConnection.disconnect();
    replyConnection.disconnect();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  logger.fatal({ err }, 'worker failed to start');
  process.exit(1);
});
