import { availableParallelism } from 'node:os';
import type { InstancePlan } from '@tessera/batcher';
import type { WorkerConfig } from '@tessera/config';
import type { ModelSpec } from '@tessera/contract';
import type { InstancePool } from '@tessera/runtime';

/** CPU threads that runs may take at once: INFERENCE_THREADS, or one per core when 0. */
export function threadBudget(
  config: Pick<WorkerConfig, 'INFERENCE_THREADS' | 'INTRA_OP_THREADS'>,
  cores = availableParallelism(),
): number {
  const budget = config.INFERENCE_THREADS > 0 ? config.INFERENCE_THREADS : cores;
  if (budget < config.INTRA_OP_THREADS) {
    // One run alone would already overrun it: no instance could ever be bounded by it.
    throw new Error(
      `INFERENCE_THREADS (${budget}${config.INFERENCE_THREADS === 0 ? ', one per core' : ''}) must be at least INTRA_OP_THREADS (${config.INTRA_OP_THREADS})`,
    );
  }
  return budget;
}

/**
 * What the scheduler needs to know of a model's instances: how many, and the CPU threads one
 * run takes. A session on the CPU takes its intra-op threads; one on the GPU runs on its own CUDA
 * stream and takes none from the budget (its inference thread only waits).
 */
export function instancePlan(
  pool: Pick<InstancePool, 'providers'>,
  intraOpThreads: number,
): (model: ModelSpec) => InstancePlan {
  return (model) => {
    const providers = pool.providers(model);
    return {
      count: Math.max(1, providers.length),
      threads: providers.some((p) => p === 'cpu') || providers.length === 0 ? intraOpThreads : 0,
    };
  };
}

/**
 * Jobs a model's queue consumer holds at once (see HeldJobs). Each model's queue has its own
 * consumer and its own cap, so a flooded model never holds another model's slots. With a backlog,
 * `most`: twice the largest batch per instance (while one batch runs on an instance, the next one
 * fills); while the queue keeps up, `idle`: one per instance, so that each can run one at once.
 * WORKER_CONCURRENCY fixes both.
 */
export function heldJobs(
  versions: Iterable<ModelSpec>,
  instances: (model: ModelSpec) => number,
  workerConcurrency: number,
): { idle: number; most: number } {
  if (workerConcurrency > 0) return { idle: workerConcurrency, most: workerConcurrency };
  let idle = 1;
  let most = 1;
  for (const spec of versions) {
    const count = Math.max(1, instances(spec));
    idle = Math.max(idle, count);
    most = Math.max(most, 2 * Math.max(1, spec.maxBatchSize) * count);
  }
  return { idle, most };
}
