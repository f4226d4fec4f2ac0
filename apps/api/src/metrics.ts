import {
  BATCH_SIZE_BUCKETS,
  Counter,
  createRegistry,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  METRIC_PREFIX,
  type Registry,
} from '@tessera/telemetry';

export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status' | 'model'>;
  latency: Histogram<'route' | 'model'>;
  queueWait: Histogram<'model'>;
  compute: Histogram<'model'>;
  batchSize: Histogram<'model'>;
  inFlight: Gauge;
  cacheRequests: Counter<'model' | 'result'>;
  maxBatchSize: Gauge<'model'>;
  latencyObjective: Gauge<'model'>;
}

/**
 * `collectQueueDepth` is called at scrape time, so queue depth is read from Redis only when
 * Prometheus asks, not on the request path.
 */
export function createApiMetrics(
  replica: string,
  collectQueueDepth: (set: (model: string, state: string, n: number) => void) => Promise<void>,
  collectQueueItems: (set: (model: string, n: number) => void) => Promise<void> = async () => {},
  collectModelWorkers: (set: (model: string, n: number) => void) => Promise<void> = async () => {},
): ApiMetrics {
  const registry = createRegistry({ service: 'api', replica });
  const p = METRIC_PREFIX;
  const requests = new Counter({
    name: `${p}http_requests_total`,
    help: 'HTTP requests answered, by route, status and model (probes and scrapes excluded).',
    labelNames: ['method', 'route', 'status', 'model'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${p}http_request_duration_seconds`,
    help: 'Time from request to response, by route and model (probes and scrapes excluded).',
    labelNames: ['route', 'model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const queueWait = new Histogram({
    name: `${p}request_queue_seconds`,
    help: 'Time a request waited in the queue before its batch ran.',
    labelNames: ['model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const compute = new Histogram({
    name: `${p}request_compute_seconds`,
    help: 'Compute time of the batch each request ran in.',
    labelNames: ['model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: `${p}request_batch_size`,
    help: 'Items in the batch each request ran in.',
    labelNames: ['model'] as const,
    buckets: BATCH_SIZE_BUCKETS,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: `${p}inflight_requests`,
    help: 'Inference requests this replica is waiting on.',
    registers: [registry],
  });
  new Gauge({
    name: `${p}queue_depth`,
    help: 'Jobs in each model queue, by state (waiting, prioritized, active, delayed).',
    labelNames: ['model', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await collectQueueDepth((model, state, n) => this.set({ model, state }, n)).catch(() => {
        // Redis away: the gauge is left empty this scrape; tessera_redis_up says why.
      });
    },
  });
  new Gauge({
    name: `${p}queue_items`,
    help: "Items admitted under each model's queue cap and not yet answered (queued or running), over all replicas: the autoscaling signal. A job may carry several requests, so queue_depth counts fewer.",
    labelNames: ['model'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await collectQueueItems((model, n) => this.set({ model }, n)).catch(() => {
        // Redis away: the gauge is left empty this scrape; tessera_redis_up says why.
      });
    },
  });
  new Gauge({
    name: `${p}model_workers`,
    help: 'Live workers serving each model (any version), over all workers: 0 means requests for it wait in its queue.',
    labelNames: ['model'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await collectModelWorkers((model, n) => this.set({ model }, n)).catch(() => {
        // Redis away: the gauge is left empty this scrape; tessera_redis_up says why.
      });
    },
  });
  const cacheRequests = new Counter({
    name: `${p}cache_requests_total`,
    help: 'Response-cache lookups by result (hit, miss).',
    labelNames: ['model', 'result'] as const,
    registers: [registry],
  });
  const maxBatchSize = new Gauge({
    name: `${p}model_max_batch_size`,
    help: "Each model's max_batch_size from the repository: the autoscaler counts queued items in batches of it.",
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const latencyObjective = new Gauge({
    name: `${p}model_latency_objective_seconds`,
    help: "Each model's p99 latency objective (latency_objective_ms), or its deadline when it declares none: what the latency alerts compare with.",
    labelNames: ['model'] as const,
    registers: [registry],
  });
  return {
    registry,
    requests,
    latency,
    queueWait,
    compute,
    batchSize,
    inFlight,
    cacheRequests,
    maxBatchSize,
    latencyObjective,
  };
}

/** 1 when Redis answered a PING within a second at scrape time, else 0: the "Redis unreachable" alert. */
export function registerRedisUp(registry: Registry, redis: { ping(): Promise<unknown> }, timeoutMs = 1000): void {
  new Gauge({
    name: `${METRIC_PREFIX}redis_up`,
    help: 'Whether this replica reached Redis at scrape time (PING answered within a second).',
    registers: [registry],
    async collect() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      });
      try {
        await Promise.race([redis.ping(), timeout]);
        this.set(1);
      } catch {
        this.set(0);
      } finally {
        clearTimeout(timer);
      }
    },
  });
}
