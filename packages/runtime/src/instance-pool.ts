import { ServiceError, type InstanceGroup, type ModelSpec, type Tensor } from '@tessera/contract';
import { createOrtRunner } from './ort-runner.js';
import { modelKey } from '@tessera/contract';
import type { LoadResult, OrtRunner, OrtRunnerOptions, Provider, RunResult } from './types.js';

/** One model's instances on this worker: a runner (an inference thread) per instance. */
interface Instances {
  runners: OrtRunner[];
  providers: Provider[];
}

/** What `load` made of a model's instance groups. */
export interface LoadedInstances extends LoadResult {
  /** Execution provider of each instance, by instance number. */
  providers: Provider[];
}

const DEFAULT_GROUPS: InstanceGroup[] = [{ count: 1, kind: 'KIND_AUTO' }];

/**
 * The instances a worker driving GPU `cudaDeviceId` creates for a model, each with the device
 * setting its runner gets: KIND_CPU always runs on the CPU, KIND_GPU and KIND_AUTO as the worker's
 * DEVICE and the model's execution providers say. A KIND_GPU group placed on other GPUs has no
 * instance here.
 */
export function instanceDevices(
  model: ModelSpec,
  device: OrtRunnerOptions['device'],
  cudaDeviceId: number,
): OrtRunnerOptions['device'][] {
  const out: OrtRunnerOptions['device'][] = [];
  for (const g of model.instanceGroups ?? DEFAULT_GROUPS) {
    if (g.kind === 'KIND_GPU' && g.gpus !== undefined && !g.gpus.includes(cudaDeviceId)) continue;
    for (let i = 0; i < g.count; i++) out.push(g.kind === 'KIND_CPU' ? 'cpu' : device);
  }
  return out;
}

/**
 * Every model instance is an ONNX Runtime session on an inference thread of its own, so that
 * different models, and several instances of one model, run at the same time. The scheduler
 * decides which instance runs which batch and keeps to one run per instance at a time; CPU
 * threads are bounded there too (see the batcher's Lanes).
 */
export class InstancePool {
  readonly #opts: OrtRunnerOptions;
  readonly #models = new Map<string, Instances>();
  #closing: Promise<void> | undefined;

  constructor(opts: OrtRunnerOptions) {
    this.#opts = opts;
  }

  /** Starts the model's instances one after another; on failure none of them stays. */
  async load(model: ModelSpec): Promise<LoadedInstances> {
    if (this.#closing) throw new ServiceError('not_ready', 'the instance pool is closed');
    const devices = instanceDevices(model, this.#opts.device, this.#opts.cudaDeviceId);
    if (devices.length === 0) {
      throw new Error(
        `model '${model.name}' version ${model.version} has no instance for GPU ${this.#opts.cudaDeviceId} (its KIND_GPU groups name other GPUs)`,
      );
    }
    const runners: OrtRunner[] = [];
    const loaded: LoadResult[] = [];
    try {
      for (const device of devices) {
        const runner = await createOrtRunner({ ...this.#opts, device });
        runners.push(runner);
        loaded.push(await runner.load(model));
      }
    } catch (err) {
      await Promise.allSettled(runners.map((r) => r.close()));
      throw err;
    }
    const providers = loaded.map((l) => l.provider);
    this.#models.set(modelKey(model), { runners, providers });
    return { ...loaded[0]!, providers };
  }

  /** Instances of a loaded model and the provider each runs on. */
  providers(model: ModelSpec): Provider[] {
    return this.#models.get(modelKey(model))?.providers ?? [];
  }

  async run(model: ModelSpec, inputs: Tensor[], instance = 0): Promise<RunResult> {
    return this.#runner(model, instance).run(model, inputs);
  }

  async reset(model: ModelSpec, instance = 0): Promise<void> {
    return this.#runner(model, instance).reset(model);
  }

  #runner(model: ModelSpec, instance: number): OrtRunner {
    const runner = this.#models.get(modelKey(model))?.runners[instance];
    if (runner === undefined)
      throw new ServiceError(
        'internal',
        `model '${model.name}' version ${model.version} has no instance ${instance} on this worker: this is a bug`,
      );
    return runner;
  }

  /** Resolves once every instance's inference thread has answered (a liveness check). */
  async ping(): Promise<void> {
    await Promise.all([...this.#models.values()].flatMap((m) => m.runners.map((r) => r.ping())));
  }

  /** Releases the model's instances (an unloaded version); each closes after its running batch. */
  async unload(model: ModelSpec): Promise<void> {
    const entry = this.#models.get(modelKey(model));
    if (!entry) return;
    this.#models.delete(modelKey(model));
    await Promise.allSettled(entry.runners.map((r) => r.close()));
  }

  /** Closes every instance, each waiting for its running batch; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= Promise.allSettled(
      [...this.#models.values()].flatMap((m) => m.runners.map((r) => r.close())),
    ).then(() => this.#models.clear());
    return this.#closing;
  }
}
