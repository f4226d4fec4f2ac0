import { workerRecoveryBoundMs, type WorkerConfig } from '@tessera/config';
import { modelKey, type ModelSpec } from '@tessera/contract';
import { loadRepository } from '@tessera/model-repository';
import { InstancePool } from '@tessera/runtime';
import type { Logger } from '@tessera/telemetry';

/** Served versions by model name; the job processors and model control read the same maps. */
export type ServedModels = Map<string, Map<string, ModelSpec>>;

export interface LoadedModels {
  runner: InstancePool;
  served: ServedModels;
  /** Execution provider per `name@version`: what the heartbeat advertises. */
  providers: Record<string, string>;
}

/**
 * Loads every version of the models this worker serves (MODELS, or the whole repository). A
 * version that fails to load is logged and left out; a name the repository does not know, or
 * nothing loaded at all, stops the worker.
 */
export async function loadModels(config: WorkerConfig, logger: Logger): Promise<LoadedModels> {
  const repository = await loadRepository(config.MODEL_REPOSITORY);
  const names = config.MODELS.length > 0 ? config.MODELS : repository.names();
  const unknown = names.filter((n) => repository.versions(n).length === 0);
  if (unknown.length > 0)
    throw new Error(
      `MODELS names unknown model(s) ${unknown.join(', ')}; the repository has ${repository.names().join(', ')}`,
    );

  const runner = new InstancePool({
    device: config.DEVICE,
    cudaDeviceId: config.CUDA_DEVICE_ID,
    intraOpNumThreads: config.INTRA_OP_THREADS,
    logger,
    ...(config.MEMORY_HEADROOM_MB > 0 ? { addressSpaceHeadroomMb: config.MEMORY_HEADROOM_MB } : {}),
  });
  const providers: Record<string, string> = {};
  const served: ServedModels = new Map();
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
  warnShortDeadlines(served, workerRecoveryBoundMs(config), logger);
  return { runner, served, providers };
}

/** Every served version, over all models. */
export function servedSpecs(served: ServedModels): ModelSpec[] {
  return [...served.values()].flatMap((versions) => [...versions.values()]);
}

/** A model whose own deadline (timeout_ms) is shorter than the crash-recovery bound loses held requests when a worker dies. */
function warnShortDeadlines(served: ServedModels, boundMs: number, logger: Logger): void {
  for (const spec of servedSpecs(served)) {
    if (spec.timeoutMs !== undefined && spec.timeoutMs <= boundMs) {
      logger.warn(
        { model: spec.name, version: spec.version, timeoutMs: spec.timeoutMs, recoveryBoundMs: boundMs },
        "the model's timeout_ms is shorter than the time a dead worker's jobs take to be recovered; its requests held by a worker that dies will time out",
      );
    }
  }
}
