import type { Server } from 'node:http';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadWorkerConfig, redact, workerRecoveryBoundMs } from '@tessera/config';
import { Scheduler, type InstancePlan } from '@tessera/batcher';
import { modelKey, parseModelKey, type ModelSpec } from '@tessera/contract';
import { connectRedis, Heartbeat, InferenceStatistics, RedisKeys, STATISTICS_FLUSH_MS } from '@tessera/queue';
import { classifyRunError, isOutOfMemoryError, type InstancePool } from '@tessera/runtime';
import { createLogger, initTracing, type Tracing } from '@tessera/telemetry';
import { GpuSampler } from './gpu.js';
import { WorkerHealth } from './health.js';
import { startMetricsServer } from './http.js';
import { heldJobs, instancePlan, threadBudget } from './instances.js';
import { startConsumer } from './job-processor.js';
import { loadModels, servedSpecs, type LoadedModels } from './load-models.js';
import { startModelControl } from './model-control.js';
import { createWorkerMetrics, initModelSeries, registerGpuMetrics, type WorkerMetrics } from './metrics.js';
import { schedulerEvents } from './scheduler-events.js';
import { WorkerTracing } from './tracing.js';
import { startJobTrimmer } from './trim.js';

const config = loadWorkerConfig();
const logger = createLogger({ service: 'worker', level: config.LOG_LEVEL, base: { worker: config.WORKER_ID } });

async function main(): Promise<void> {
  const tracing = initTracing('tessera-worker', config.OTEL_EXPORTER_OTLP_ENDPOINT, {
    'service.instance.id': config.WORKER_ID,
  });
  const traces = new WorkerTracing(tracing, config.WORKER_ID);
  const budget = threadBudget(config);
  const models = await loadModels(config, logger);
  const { runner, served, providers } = models;
  const instances = instancePlan(runner, config.INTRA_OP_THREADS);

  // Both retry across reconnects (a Redis restart or a Sentinel failover): the worker keeps its
  // models loaded and picks up where it was.
  const bullConnection = connectRedis(config, { maxRetriesPerRequest: null });
  const replyConnection = connectRedis(config, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  for (const conn of [bullConnection, replyConnection])
    conn.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  // Written in the same write as the batch's replies, at most once per flush window.
  const statistics = new InferenceStatistics(replyConnection, config.QUEUE_PREFIX, STATISTICS_FLUSH_MS, true);

  const metrics = createWorkerMetrics(
    { worker: config.WORKER_ID, device: config.DEVICE, cudaDevice: config.CUDA_DEVICE_ID },
    () => scheduler.pending(),
  );
  // Series appear only where nvidia-smi answers, i.e. on a host with a GPU.
  if (config.DEVICE !== 'cpu') registerGpuMetrics(metrics.registry, new GpuSampler(config.CUDA_DEVICE_ID));
  const scheduler: Scheduler = new Scheduler({
    runner,
    isOutOfMemory: isOutOfMemoryError,
    classifyError: classifyRunError,
    growAfter: config.OOM_GROW_AFTER,
    tuning: config.BATCH_TUNING,
    padding: { maxBytes: config.MAX_BATCH_PADDING_BYTES, maxRatio: config.PAD_LENGTH_RATIO },
    instances,
    threadBudget: budget,
    events: schedulerEvents({
      metrics,
      tracing: traces,
      logger,
      statistics,
      describeCap: (model) => scheduler.describeCap(model),
    }),
  });
  initServedSeries(metrics, models, scheduler);

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

  const heartbeat = workerHeartbeat(replyConnection, models, scheduler, instances);
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
  const server = await serveProbes(metrics, health, models);
  const port = listeningPort(server);
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
    await shutdown(signal, {
      stopModelControl,
      health,
      heartbeat,
      consumers,
      scheduler,
      runner,
      tracing,
      stopTrimmer,
      server,
      statistics,
      connections: [bullConnection, replyConnection],
    });
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** /metrics, /live, /ready and /health on the worker's own listener. */
function serveProbes(
  metrics: WorkerMetrics,
  health: WorkerHealth,
  { served, providers }: LoadedModels,
): Promise<Server> {
  return startMetricsServer(metrics.registry, config.METRICS_HOST, config.METRICS_PORT, {
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
}

function listeningPort(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : config.METRICS_PORT;
}

/** Every served model's series exist from the start (a dashboard shows 0, not "no data"). */
function initServedSeries(
  metrics: WorkerMetrics,
  { runner, served, providers }: LoadedModels,
  scheduler: Scheduler,
): void {
  for (const [key, provider] of Object.entries(providers)) initModelSeries(metrics, parseModelKey(key)!.name, provider);
  for (const spec of servedSpecs(served)) {
    metrics.batchCap.set({ model: spec.name }, scheduler.cap(spec));
    metrics.batchDelay.set({ model: spec.name }, 0);
    for (const provider of runner.providers(spec)) metrics.instances.inc({ model: spec.name, provider });
  }
}

/** What the heartbeat advertises: the served versions, their providers, caps and instance counts. */
function workerHeartbeat(
  connection: Redis,
  { served, providers }: LoadedModels,
  scheduler: Scheduler,
  instances: (spec: ModelSpec) => InstancePlan,
): Heartbeat {
  const startedAt = Date.now();
  return new Heartbeat(
    connection,
    config.QUEUE_PREFIX,
    config.HEARTBEAT_INTERVAL_MS,
    () => {
      const caps: Record<string, number> = {};
      const counts: Record<string, number> = {};
      for (const spec of servedSpecs(served)) {
        caps[modelKey(spec)] = scheduler.cap(spec);
        counts[modelKey(spec)] = instances(spec).count;
      }
      return { id: config.WORKER_ID, models: Object.keys(providers), providers, caps, instances: counts, startedAt };
    },
    (err) => logger.warn({ err: (err as Error).message }, 'heartbeat failed'),
  );
}

interface Running {
  stopModelControl: () => void;
  health: WorkerHealth;
  heartbeat: Heartbeat;
  consumers: Worker[];
  scheduler: Scheduler;
  runner: InstancePool;
  tracing: Tracing;
  stopTrimmer: () => Promise<void>;
  server: Server;
  statistics: InferenceStatistics;
  connections: Redis[];
}

/** Takes no new jobs, finishes the jobs already taken, releases everything and exits. */
async function shutdown(signal: string, w: Running): Promise<never> {
  logger.info({ signal }, 'shutting down: taking no new jobs, finishing the jobs already taken');
  const force = setTimeout(() => {
    logger.error('shutdown grace period over; exiting with jobs still active (BullMQ re-queues them as stalled)');
    process.exit(1);
  }, config.SHUTDOWN_GRACE_MS);
  force.unref();
  w.stopModelControl();
  w.health.stop();
  await w.heartbeat.stop(config.WORKER_ID).catch(() => {
    // Redis unreachable: the entry expires on its own.
  });
  // close() waits for every active job, i.e. for the batches holding them, to finish.
  await Promise.allSettled(w.consumers.map((c) => c.close()));
  await w.scheduler.drain();
  await w.runner.close().catch(() => {
    // Exiting releases whatever a failed close left behind.
  });
  await w.statistics.flush().catch(() => {
    // Redis unreachable: the last batches go uncounted.
  });
  await w.tracing.shutdown();
  await w.stopTrimmer();
  await new Promise<void>((resolve) => w.server.close(() => resolve()));
  for (const connection of w.connections) connection.disconnect();
  logger.info('stopped');
  process.exit(0);
}

main().catch((err) => {
  logger.fatal({ err }, 'worker failed to start');
  process.exit(1);
});
