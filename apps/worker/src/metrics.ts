import { BATCH_SIZE_BUCKETS, Counter, createRegistry, Gauge, Histogram, LATENCY_BUCKETS, METRIC_PREFIX, type Registry } from '@tessera/telemetry';

export interface WorkerMetrics {
  registry: Registry;
  batchSize: Histogram<'model'>;
  batchCompute: Histogram<'model' | 'provider'>;
  batchCap: Gauge<'model'>;
  batchDelay: Gauge<'model'>;
  oomEvents: Counter<'model'>;
  provider: Gauge<'model' | 'provider'>;
  instances: Gauge<'model' | 'provider'>;
  jobs: Counter<'model' | 'outcome'>;
  pendingItems: Gauge;
}

export function createWorkerMetrics(worker: string, pending: () => number): WorkerMetrics {
  const registry = createRegistry({ service: 'worker', worker });
  const p = `${METRIC_PREFIX}worker_`;
  const registers = [registry];
  return {
    registry,
    batchSize: new Histogram({ name: `${p}batch_size`, help: 'Items per executed batch.', labelNames: ['model'] as const, buckets: BATCH_SIZE_BUCKETS, registers }),
    batchCompute: new Histogram({ name: `${p}batch_compute_seconds`, help: 'Duration of session.run per batch.', labelNames: ['model', 'provider'] as const, buckets: LATENCY_BUCKETS, registers }),
    batchCap: new Gauge({ name: `${p}batch_cap`, help: 'Current batch cap in items: tuned to the best measured throughput within the latency objective, halved on out-of-memory.', labelNames: ['model'] as const, registers }),
    batchDelay: new Gauge({ name: `${p}batch_delay_seconds`, help: 'How long the latest batch was held open for more items (0: it went at once; at most max_queue_delay_ms).', labelNames: ['model'] as const, registers }),
    oomEvents: new Counter({ name: `${p}oom_events_total`, help: 'Out-of-memory failures of session.run.', labelNames: ['model'] as const, registers }),
    provider: new Gauge({ name: `${p}execution_provider`, help: 'Execution provider in use per model (value 1).', labelNames: ['model', 'provider'] as const, registers }),
    instances: new Gauge({ name: `${p}model_instances`, help: 'Model instances (sessions on inference threads of their own) by execution provider.', labelNames: ['model', 'provider'] as const, registers }),
    jobs: new Counter({ name: `${p}jobs_total`, help: 'Requests finished, by outcome (ok, failed, expired); a job may carry several coalesced requests.', labelNames: ['model', 'outcome'] as const, registers }),
    pendingItems: new Gauge({
      name: `${p}pending_items`,
      help: 'Items taken from the queue and waiting for a batch.',
      registers,
      collect() {
        this.set(pending());
      },
    }),
  };
}
