import { checkTensors, ServiceError, type Infer } from '@tessera/contract';
import { Scheduler } from '@tessera/batcher';
import { loadRepository } from '@tessera/model-repository';
import { classifyRunError, createOrtRunner, isOutOfMemoryError } from '@tessera/runtime';

const SILENT = { info() {}, warn() {}, error() {} };

/** One version for every model, or a version per model name (models not named get their default). */
export type VersionChoice = string | Readonly<Record<string, string>>;

export function versionFor(choice: VersionChoice | undefined, model: string): string | undefined {
  return typeof choice === 'string' ? choice : choice?.[model];
}

export interface LocalInfer {
  infer: Infer;
  /** Batch sizes run per model, in order. */
  batches: Map<string, number[]>;
  close(): Promise<void>;
}

/**
 * An `infer` that runs the repository's models in this process on the CPU through the
 * worker's own scheduler and ONNX Runtime runner, so concurrent calls are batched, padded and
 * cropped exactly as in the service; calls are checked as the API checks them.
 */
export async function createLocalInfer(
  repoDir: string,
  models: readonly string[],
  threads = 2,
  version?: VersionChoice,
): Promise<LocalInfer> {
  const repository = await loadRepository(repoDir);
  // One version for every model (its default when not given), as a request with `version` gets;
  // a version per model attributes a difference between versions to one model.
  const lookup = (name: string) => repository.get(name, versionFor(version, name));
  const runner = await createOrtRunner({ device: 'cpu', cudaDeviceId: 0, intraOpNumThreads: threads, logger: SILENT });
  for (const name of models) {
    const spec = lookup(name);
    if (!spec)
      throw new Error(
        `model repository ${repoDir} has no model '${name}'${version ? ` version ${versionFor(version, name)}` : ''}`,
      );
    await runner.load(spec);
  }
  const batches = new Map<string, number[]>();
  const scheduler = new Scheduler({
    runner,
    isOutOfMemory: isOutOfMemoryError,
    classifyError: classifyRunError,
    events: { onBatch: (e) => batches.set(e.model.name, [...(batches.get(e.model.name) ?? []), e.size]) },
  });
  let seq = 0;
  const infer: Infer = async (call) => {
    const model = lookup(call.model);
    if (!model || !models.includes(call.model))
      throw new ServiceError('model_not_found', `model '${call.model}' is not loaded here`);
    const items = checkTensors(model, call.inputs);
    const outcome = await scheduler.submit({
      id: `local-${seq++}`,
      model,
      items,
      inputs: call.inputs,
      enqueuedAt: performance.timeOrigin + performance.now(),
      ...(call.outputs ? { outputs: call.outputs } : {}),
    });
    if (!outcome.ok) throw outcome.error;
    return { outputs: outcome.outputs, timing: outcome.timing, provider: outcome.provider };
  };
  return {
    infer,
    batches,
    async close() {
      await scheduler.drain();
      await runner.close();
    },
  };
}
