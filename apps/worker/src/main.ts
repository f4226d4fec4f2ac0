import type { Server } from 'node:http';
import type { Worker } from 'bullmq';
import { loadWorkerConfig, redact, workerRecoveryBoundMs } from '@tessera/config';
import { modelKey, parseModelKey, type ModelSpec } from '@tessera/contract';
import { Scheduler } from '@tessera/batcher';
import { loadRepository } from '@tessera/model-repository';
import { connectRedis, Heartbeat, InferenceStatistics, RedisKeys } from '@tessera/queue';
import { classifyRunError, InstancePool, isOutOfMemoryError } from '@tessera/runtime';
import { createLogger, initTracing } from '@tessera/telemetry';
import { startConsumer } from './consumer.js';
import { WorkerHealth } from './health.js';
import { startMetricsServer } from './http.js';
import { heldJobs, instancePlan, threadBudget } from './instances.js';
import { startModelControl } from './model-control.js';
import { createWorkerMetrics, initModelSeries, registerGpuMetrics } from './metrics.js';
import { WorkerTracing } from './tracing.js';
import { startJobTrimmer } from './trim.js';

const config = loadWorkerConfig();
const logger = createLogger({ service: 'worker', level: config.LOG_LEVEL, base: { worker: config.WORKER_ID } });

async function main(): Promise<void> {
  const tracing = initTracing('tessera-worker', config.OTEL_EXPORTER_OTLP_ENDPOINT, {
    'service.instance.id': config.WORKER_ID,
  });
  const traces = new WorkerTracing(tracing, config.WORKER_ID);
  const repository = await loadRepository(config.MODEL_REPOSITORY);
  const names = config.MODELS.length > 0 ? config.MODELS : repository.names();
  const unknown = names.filter((n) => repository.versions(n).length === 0);
  if (unknown.length > 0)
    throw new Error(
      `MODELS names unknown model(s) ${unknown.join(', ')}; the repository has ${repository.names().join(', ')}`,
    );

  const budget = threadBudget(config);
  const runner = new InstancePool({
    device: config.DEVICE,
    cudaDeviceId: config.CUDA_DEVICE_ID,
    intraOpNumThreads: config.INTRA_OP_THREADS,
    logger,
    ...(config.MEMORY_HEADROOM_MB > 0 ? { addressSpaceHeadroomMb: config.MEMORY_HEADROOM_MB } : {}),
  });
  const providers: Record<string, string> = {};
  const served = new Map<string, Map<string, ModelSpec>>();
  for (const name of names) {
    for (const version of repository.versions(name)) {
      const spec = repository.get(name, version)!;
      try {
        const { provider } = await runner.load(spec);
        providers[modelKey(spec)] = provider;
        if (!served.has(name)) served.set(name, new Map());
        served.get(name)!.set(version, spec);
      } catch (err) {
        logger.error({ err, model: name, version }, 'model failed to load; not serving it');
      }
    }
  }
  if (served.size === 0) throw new Error('no model could be loaded');
  warnShortDeadlines(served);

  const instances = instancePlan(runner, config.INTRA_OP_THREADS);

  let scheduler!: Scheduler;
  let statistics: InferenceStatistics | undefined; // once Redis is connected, before any batch runs
  const metrics = createWorkerMetrics(
    { worker: config.WORKER_ID, device: config.DEVICE, cudaDevice: config.CUDA_DEVICE_ID },
    () => scheduler.pending(),
  );
  // Series appear only where nvidia-smi answers, i.e. on a host with a GPU.
  if (config.DEVICE !== 'cpu') registerGpuMetrics(metrics.registry, config.CUDA_DEVICE_ID);
  scheduler = new Scheduler({
    runner,
    isOutOfMemory: isOutOfMemoryError,
    classifyError: classifyRunError,
    growAfter: config.OOM_GROW_AFTER,
    tuning: config.BATCH_TUNING,
    padding: { maxBytes: config.MAX_BATCH_PADDING_BYTES, maxRatio: config.PAD_LENGTH_RATIO },
    instances,
    threadBudget: budget,
    events: {
      onBatch: (e) => {
        traces.batch(e);
        metrics.batchSize.observe({ model: e.model.name }, e.size);
        metrics.batchCompute.observe({ model: e.model.name, provider: e.provider }, e.computeMs / 1000);
        metrics.batchDelay.set({ model: e.model.name }, e.delayMs / 1000);
        statistics?.recordExecution(e.model.name, e.model.version, e.size, e.computeMs).catch(() => {});
      },
      onOom: (e) => {
        metrics.oomEvents.inc({ model: e.model.name });
        logger.warn(
          { model: e.model.name, from: e.from, to: e.to },
          'out of memory: session recreated, batch cap halved, retrying the same items',
        );
      },
      onCapChange: (e) => {
        metrics.batchCap.set({ model: e.model.name }, e.cap);
        // Tries of neighbouring caps are routine (a few batches each); decisions are worth a line.
        const level = e.reason === 'probe' ? 'debug' : 'info';
        logger[level](
          { model: e.model.name, cap: e.cap, from: e.from, reason: e.reason, tuner: scheduler.describeCap(e.model) },
          'batch cap changed',
        );
      },
    },
  });
  for (const [key, provider] of Object.entries(providers)) initModelSeries(metrics, parseModelKey(key)!.name, provider);
  for (const versions of served.values()) {
    for (const spec of versions.values()) {
      metrics.batchCap.set({ model: spec.name }, scheduler.cap(spec));
      metrics.batchDelay.set({ model: spec.name }, 0);
      for (const provider of runner.providers(spec)) metrics.instances.inc({ model: spec.name, provider });
    }
  }

  // Both retry across reconnects (a Redis restart or a Sentinel failover): the worker keeps its
  // models loaded and picks up where it was.
  const bullConnection = connectRedis(config, { maxRetriesPerRequest: null });
  const replyConnection = connectRedis(config, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  for (const conn of [bullConnection, replyConnection])
    conn.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  statistics = new InferenceStatistics(replyConnection, config.QUEUE_PREFIX);

  const consumers: Worker[] = [];
  const startModel = (name: string) => {
    const versions = served.get(name)!;
    consumers.push(
      startConsumer({
        name,
        versions,
        scheduler,
        bullConnection,
        replyConnection,
        prefix: config.QUEUE_PREFIX,
        workerId: config.WORKER_ID,
        concurrency: heldJobs(versions.values(), (spec) => instances(spec).count, config.WORKER_CONCURRENCY),
        lockDurationMs: config.LOCK_DURATION_MS,
        stalledIntervalMs: config.STALLED_INTERVAL_MS,
        logger,
        metrics,
        tracing: traces,
      }),
    );
  };
  for (const name of served.keys()) startModel(name);

  const stopTrimmer = startJobTrimmer(bullConnection, config.QUEUE_PREFIX, [...served.keys()], logger);

  const heartbeat = new Heartbeat(
    replyConnection,
    config.QUEUE_PREFIX,
    config.HEARTBEAT_INTERVAL_MS,
    () => {
      const caps: Record<string, number> = {};
      for (const versions of served.values())
        for (const spec of versions.values()) caps[modelKey(spec)] = scheduler.cap(spec);
      const counts: Record<string, number> = {};
      for (const versions of served.values())
        for (const spec of versions.values()) counts[modelKey(spec)] = instances(spec).count;
      return { id: config.WORKER_ID, models: Object.keys(providers), providers, caps, instances: counts, startedAt };
    },
    (err) => logger.warn({ err: (err as Error).message }, 'heartbeat failed'),
  );
  const startedAt = Date.now();
  heartbeat.start();
  // Model load and unload through the repository API (Triton's explicit model control).
  const stopModelControl = await startModelControl({
    config,
    logger,
    served,
    providers,
    load: (spec) => runner.load(spec),
    release: (spec) => runner.unload(spec),
    startModel,
    beat: () => heartbeat.beat(),
  });

  let stopping = false;
  const health = new WorkerHealth({
    ping: () => runner.ping(),
    models: () => (stopping ? 0 : served.size),
    registered: async () =>
      (await replyConnection.exists(new RedisKeys(config.QUEUE_PREFIX).worker(config.WORKER_ID))) === 1,
    pingTimeoutMs: config.LIVENESS_TIMEOUT_MS,
    loopBlockMs: config.EVENT_LOOP_BLOCK_MS,
  });
  health.start();
  const server: Server = await startMetricsServer(metrics.registry, config.METRICS_HOST, config.METRICS_PORT, {
    live: () => health.live(),
    ready: () => health.ready(),
    describe: () => ({
      worker: config.WORKER_ID,
      device: config.DEVICE,
      cuda_device_id: config.CUDA_DEVICE_ID,
      providers,
      models: [...served.keys()],
    }),
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.METRICS_PORT;
  logger.info(
    {
      config: redact(config),
      providers,
      metricsPort: port,
      threadBudget: budget,
      recoveryBoundMs: workerRecoveryBoundMs(config),
    },
    `worker ready: serving ${[...served.keys()].join(', ')}; metrics on http://${config.METRICS_HOST}:${port}/metrics`,
  );

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: taking no new jobs, finishing the jobs already taken');
    const force = setTimeout(() => {
      logger.error('shutdown grace period over; exiting with jobs still active (BullMQ re-queues them as stalled)');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    force.unref();
    stopModelControl();
    health.stop();
    await heartbeat.stop(config.WORKER_ID).catch(() => {});
    // close() waits for every active job, i.e. for the batches holding them, to finish.
    await Promise.allSettled(consumers.map((c) => c.close()));
    await scheduler.drain();
    await runner.close().catch(() => {});
    await tracing.shutdown();
    await stopTrimmer();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    bullConnection.disconnect();
    replyConnection.disconnect();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** A model whose own deadline (timeout_ms) is shorter than the crash-recovery bound loses held requests when a worker dies. */
function warnShortDeadlines(served: Map<string, Map<string, ModelSpec>>): void {
  const boundMs = workerRecoveryBoundMs(config);
  for (const versions of served.values()) {
    for (const spec of versions.values()) {
      if (spec.timeoutMs !== undefined && spec.timeoutMs <= boundMs) {
        logger.warn(
          { model: spec.name, version: spec.version, timeoutMs: spec.timeoutMs, recoveryBoundMs: boundMs },
          "the model's timeout_ms is shorter than the time a dead worker's jobs take to be recovered; its requests held by a worker that dies will time out",
        );
      }
    }
  }
}

main().catch((err) => {
  logger.fatal({ err }, 'worker failed to start');
  process.exit(1);
});
