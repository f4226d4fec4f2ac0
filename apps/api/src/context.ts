import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ApiConfig } from '@tessera/config';
import type { Pipeline } from '@tessera/contract';
import type { ModelRepository } from '@tessera/model-repository';
import {
  Admission,
  connectRedis,
  IdempotencyStore,
  InferenceStatistics,
  queueName,
  RedisKeys,
  ReplyListener,
  WorkerRegistry,
} from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';
import { FailureLimit } from './auth/failure-limit.js';
import { KeyStore } from './auth/key-store.js';
import { SessionStore } from './auth/sessions.js';
import { ResponseCache } from './inference/cache/response-cache.js';
import { JobCoalescer } from './inference/coalescer.js';
import { JobEnqueuer } from './inference/enqueue.js';
import { Infer } from './inference/infer.js';
import { Waiter } from './inference/waiter.js';
import { createApiMetrics, registerRedisUp, type ApiMetrics } from './metrics.js';

/** How long a replica's request counts may wait for an enqueue to leave with (see below). */
const API_STATISTICS_FLUSH_MS = 100;

/** Everything a route may use, built once per process and passed down whole. */
export interface ApiContext {
  config: ApiConfig;
  logger: Logger;
  repository: ModelRepository;
  redis: Redis;
  workers: WorkerRegistry;
  /** The inference path: admission, enqueue and wait (inference/infer.ts). */
  infer: Infer;
  metrics: ApiMetrics;
  /** Text and image models by the name /predict knows them by. */
  pipelines: Map<string, Pipeline>;
  /** The BullMQ queue of a model (one per model, created on first use). */
  queueFor(model: string): Queue;
  keys: KeyStore;
  authFailures: FailureLimit;
  sessions: SessionStore;
  idempotency: IdempotencyStore;
  cache: ResponseCache;
  /** Triton's statistics extension, shared by every replica and worker through Redis. */
  statistics: InferenceStatistics;
  close(): Promise<void>;
}

export function createContext(
  config: ApiConfig,
  logger: Logger,
  repository: ModelRepository,
  pipelines: Map<string, Pipeline> = new Map(),
): ApiContext {
  // Every call on a request's path (auth, admission, enqueue, readiness) is bounded: a frozen or
  // unreachable Redis fails the call (503) after REDIS_COMMAND_TIMEOUT_MS instead of holding the
  // request. Commands issued while reconnecting wait in the offline queue under the same bound.
  const redisOptions = {
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    lazyConnect: false,
    commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
  };
  const redis = connectRedis(config, redisOptions);
  // Admission, large inputs and job adds: one connection without auto-pipelining, so that a job
  // add is sent right behind its admission and runs after it (see JobCoalescer).
  const enqueueConnection = connectRedis(config, { ...redisOptions, enableAutoPipelining: false });
  // Blocking reads of the replies: no bound (a reply may take the whole deadline); commands are
  // retried across reconnects.
  const replyConnection = connectRedis(config, { maxRetriesPerRequest: null });
  for (const [name, conn] of [
    ['redis', redis],
    ['enqueue', enqueueConnection],
    ['reply', replyConnection],
  ] as const) {
    conn.on('error', (err) => logger.warn({ err: err.message, connection: name }, 'redis connection error'));
  }

  const queues = new Map<string, Queue>();
  const queueFor = (model: string): Queue => {
    let q = queues.get(model);
    if (!q) {
      q = new Queue(queueName(model), { connection: enqueueConnection, prefix: config.QUEUE_PREFIX });
      q.on('error', (err) => logger.warn({ err: err.message, model }, 'queue error'));
      queues.set(model, q);
    }
    return q;
  };

  const replies = new ReplyListener(
    replyConnection,
    new RedisKeys(config.QUEUE_PREFIX).reply(config.REPLICA_ID),
    (err) => logger.warn({ err: (err as Error).message }, 'reply listener error'),
  );
  replies.start();

  const admission = new Admission(enqueueConnection, config.QUEUE_PREFIX);
  const workers = new WorkerRegistry(redis, config.QUEUE_PREFIX, config.HEARTBEAT_INTERVAL_MS);
  const metrics = createApiMetrics(
    config.REPLICA_ID,
    async (set) => {
      for (const name of repository.names()) {
        const counts = await queueFor(name).getJobCounts('waiting', 'prioritized', 'active', 'delayed');
        for (const [state, n] of Object.entries(counts)) set(name, state, n);
      }
    },
    async (set) => {
      for (const name of repository.names()) set(name, await admission.inFlight(name));
    },
    async (set) => {
      const live = await workers.live();
      for (const name of repository.names())
        set(name, live.filter((w) => w.models.some((m) => m.startsWith(`${name}@`))).length);
    },
  );

  // Cache hit ratios are read per model from the start, before the first lookup.
  for (const name of repository.names())
    for (const result of ['hit', 'miss']) metrics.cacheRequests.inc({ model: name, result }, 0);
  for (const model of repository.all()) {
    metrics.maxBatchSize.set({ model: model.name }, Math.max(1, model.maxBatchSize));
    metrics.latencyObjective.set(
      { model: model.name },
      (model.latencyObjectiveMs ?? model.timeoutMs ?? config.REQUEST_TIMEOUT_MS) / 1000,
    );
  }
  registerRedisUp(metrics.registry, redis);

  const idempotency = new IdempotencyStore(redis, config.QUEUE_PREFIX);
  const cache = new ResponseCache(config.QUEUE_PREFIX, metrics.cacheRequests, config.RESPONSE_CACHE_MAX_BYTES);
  // On the enqueue's connection, and held long enough for the next enqueue of a replica at one
  // request every few tens of ms: the counts leave with that enqueue's socket write, and the
  // timer writes them only when no request follows.
  const statistics = new InferenceStatistics(enqueueConnection, config.QUEUE_PREFIX, API_STATISTICS_FLUSH_MS);
  const enqueuer = new JobEnqueuer(queueFor, admission, enqueueConnection, replies.key, () => {
    void statistics.flush().catch(() => {
      // A record's own promise reports a failed write.
    });
  });
  const infer = new Infer({
    config,
    logger,
    metrics,
    statistics,
    cache,
    idempotency,
    workers,
    coalescer: new JobCoalescer(enqueuer, config.COALESCE_WINDOW_MS),
    waiter: new Waiter(queueFor, replies, admission, logger),
    keys: new RedisKeys(config.QUEUE_PREFIX),
  });

  let closing: Promise<void> | undefined;
  return {
    config,
    logger,
    repository,
    redis,
    workers,
    infer,
    metrics,
    pipelines,
    queueFor,
    keys: new KeyStore(redis, config.QUEUE_PREFIX, config.AUTH_CACHE_MS),
    authFailures: new FailureLimit(redis, config.QUEUE_PREFIX, config.AUTH_FAILURE_LIMIT, config.RATE_LIMIT_WINDOW_MS),
    sessions: new SessionStore(redis, config.QUEUE_PREFIX, config.ADMIN_SESSION_TTL_S),
    idempotency,
    cache,
    statistics,
    // Every step runs even when an earlier one fails; calling twice is harmless.
    close() {
      closing ??= (async () => {
        await replies.close().catch(() => {
          // Closing goes on: the listener's connection is dropped with the others below.
        });
        // A queue that never reached Redis (Redis away since start-up) would wait for it forever.
        const queuesClosed = Promise.allSettled([
          ...[...queues.values()].map((q) => q.close()),
          statistics.flush(), // the last requests' counts
        ]);
        await Promise.race([queuesClosed, new Promise((r) => setTimeout(r, 2000).unref())]);
        for (const conn of [redis, enqueueConnection, replyConnection]) conn.disconnect();
      })();
      return closing;
    },
  };
}
