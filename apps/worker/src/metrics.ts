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
import type { GpuSampler } from './gpu.js';

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

/** Outcomes of `jobs_total`; every one starts at 0 for every model, so rates and alerts see a series. */
export const JOB_OUTCOMES = ['ok', 'failed', 'expired'] as const;

export interface WorkerIdentity {
  worker: string;
  /** `cuda` or `cpu`: what the worker asked for (DEVICE, `auto` resolved per model below). */
  device: string;
  /** The GPU index this worker was given (CUDA_DEVICE_ID). */
  cudaDevice: number;
}

export function createWorkerMetrics(identity: WorkerIdentity, pending: () => number): WorkerMetrics {
  const registry = createRegistry({ service: 'worker', worker: identity.worker });
  const p = `${METRIC_PREFIX}worker_`;
  const registers = [registry];
  new Gauge({
    name: `${p}info`,
    help: 'The device this worker was given (value 1).',
    labelNames: ['device', 'cuda_device'] as const,
    registers,
  }).set({ device: identity.device, cuda_device: String(identity.cudaDevice) }, 1);
  return {
    registry,
    batchSize: new Histogram({
      name: `${p}batch_size`,
      help: 'Items per executed batch: _sum counts inferences, _count executions.',
      labelNames: ['model'] as const,
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    }),
    batchCompute: new Histogram({
      name: `${p}batch_compute_seconds`,
      help: 'Duration of session.run per batch.',
      labelNames: ['model', 'provider'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    batchCap: new Gauge({
      name: `${p}batch_cap`,
      help: 'Current batch cap in items: tuned to the best measured throughput within the latency objective, halved on out-of-memory.',
      labelNames: ['model'] as const,
      registers,
    }),
    batchDelay: new Gauge({
      name: `${p}batch_delay_seconds`,
      help: 'How long the latest batch was held open for more items (0: it went at once; at most max_queue_delay_ms).',
      labelNames: ['model'] as const,
      registers,
    }),
    oomEvents: new Counter({
      name: `${p}oom_events_total`,
      help: 'Out-of-memory failures of session.run.',
      labelNames: ['model'] as const,
      registers,
    }),
    provider: new Gauge({
      name: `${p}execution_provider`,
      help: 'Execution provider in use per model (value 1).',
      labelNames: ['model', 'provider'] as const,
      registers,
    }),
    instances: new Gauge({
      name: `${p}model_instances`,
      help: 'Model instances (sessions on inference threads of their own) by execution provider.',
      labelNames: ['model', 'provider'] as const,
      registers,
    }),
    jobs: new Counter({
      name: `${p}jobs_total`,
      help: 'Requests finished, by outcome (ok, failed, expired); a job may carry several coalesced requests.',
      labelNames: ['model', 'outcome'] as const,
      registers,
    }),
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

/** Every per-model series a dashboard, alert or autoscaler reads exists from the start, at 0. */
export function initModelSeries(metrics: WorkerMetrics, model: string, provider: string): void {
  metrics.oomEvents.inc({ model }, 0);
  for (const outcome of JOB_OUTCOMES) metrics.jobs.inc({ model, outcome }, 0);
  metrics.batchSize.zero({ model });
  metrics.batchCompute.zero({ model, provider });
  metrics.batchDelay.set({ model }, 0);
  metrics.provider.set({ model, provider }, 1);
}

/** GPU utilisation and memory of this worker's device, read from NVML (nvidia-smi) at scrape time. */
export function registerGpuMetrics(registry: Registry, sampler: GpuSampler): void {
  const p = `${METRIC_PREFIX}worker_gpu_`;
  const registers = [registry];
  const memoryUsed = new Gauge({
    name: `${p}memory_used_bytes`,
    help: "GPU memory in use on this worker's device (NVML).",
    registers,
  });
  const memoryTotal = new Gauge({
    name: `${p}memory_total_bytes`,
    help: "GPU memory of this worker's device (NVML).",
    registers,
  });
  new Gauge({
    name: `${p}utilization_ratio`,
    help: 'Share of the last sample period the device was busy (NVML, 0 to 1).',
    registers,
    async collect() {
      const sample = await sampler.sample();
      if (!sample) return;
      this.set(sample.utilization);
      memoryUsed.set(sample.memoryUsedBytes);
      memoryTotal.set(sample.memoryTotalBytes);
    },
  });
}
