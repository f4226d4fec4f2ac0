import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import {
  datatypeFromOrt,
  datatypeInfo,
  modelKey,
  ServiceError,
  type ModelSpec,
  type Tensor,
  type TensorData,
} from '@tessera/contract';
import type { LoadInfo, ThreadConfig } from './protocol.js';
import type { IoInfo, Provider } from './types.js';

interface Entry {
  session: ort.InferenceSession;
  plan: Provider[];
  outputNames: string[];
  info: LoadInfo;
}

export interface RunOutcome {
  outputs: Tensor[];
  computeMs: number;
  provider: Provider;
}

/** onnxruntime-node looks for the CUDA provider libraries next to its native binding. */
function cudaLibraryHint(): string {
  if (process.platform !== 'linux') return '';
  try {
    const binDir = join(
      dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
      '..',
      'bin',
      'napi-v6',
      process.platform,
      process.arch,
    );
    const missing = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'].filter(
      (f) => !existsSync(join(binDir, f)),
    );
    if (missing.length === 0)
      return ' (the provider libraries are installed, so a CUDA/cuDNN library or the GPU itself is likely missing)';
    return ` (${missing.join(' and ')} not installed in ${binDir}; onnxruntime-node's install script downloads them unless ONNXRUNTIME_NODE_INSTALL=skip)`;
  } catch {
    return '';
  }
}

/** Failures to register the provider at all hold for every model, so they are remembered. */
function isProviderLoadFailure(message: string): boolean {
  return /AppendExecutionProvider_Cuda|failed to load (shared )?library/i.test(message);
}

function ioInfo(
  names: readonly string[],
  metadata: readonly ort.InferenceSession.ValueMetadata[] | undefined,
): IoInfo[] {
  return names.map((name) => {
    const m = metadata?.find((v) => v.name === name);
    if (m === undefined || !m.isTensor) return { name, datatype: undefined, ortType: undefined, shape: undefined };
    return { name, datatype: datatypeFromOrt(m.type), ortType: m.type, shape: [...m.shape] };
  });
}

/** Mismatches between the model's configuration and its graph, found before any request is served. */
function specProblems(model: ModelSpec, inputs: IoInfo[], outputs: IoInfo[]): string[] {
  const problems: string[] = [];
  const graphInputs = new Set(inputs.map((i) => i.name));
  for (const name of graphInputs) {
    if (!model.inputs.some((s) => s.name === name))
      problems.push(`graph input '${name}' is not in the model configuration`);
  }
  const check = (kind: string, specs: ModelSpec['inputs'], graph: IoInfo[]): void => {
    for (const spec of specs) {
      const g = graph.find((i) => i.name === spec.name);
      if (g === undefined) {
        problems.push(
          `configured ${kind} '${spec.name}' is not in the graph (graph has ${graph.map((i) => i.name).join(', ')})`,
        );
        continue;
      }
      if (g.ortType !== undefined && g.datatype !== spec.datatype) {
        problems.push(`${kind} '${spec.name}' is ${spec.datatype} in the configuration but ${g.ortType} in the graph`);
      }
      const expected = spec.shape.length + (model.maxBatchSize > 0 ? 1 : 0);
      if (g.shape !== undefined && g.shape.length !== expected) {
        problems.push(
          `${kind} '${spec.name}' has rank ${g.shape.length} in the graph but the configuration implies ${expected}`,
        );
      }
    }
  };
  check('input', model.inputs, inputs);
  check('output', model.outputs, outputs);
  return problems;
}

export class SessionStore {
  readonly #config: ThreadConfig;
  readonly #sessions = new Map<string, Entry>();
  /** Why the CUDA provider cannot be registered in this process, once known. */
  #cudaUnavailable: string | undefined;

  constructor(config: ThreadConfig) {
    this.#config = config;
  }

  #options(provider: Provider): ort.InferenceSession.SessionOptions {
    return {
      executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: this.#config.cudaDeviceId }] : ['cpu'],
      intraOpNumThreads: this.#config.intraOpNumThreads,
      ...(this.#config.interOpNumThreads !== undefined ? { interOpNumThreads: this.#config.interOpNumThreads } : {}),
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: !this.#config.disableCpuArena,
    };
  }

  async #create(
    model: ModelSpec,
    plan: Provider[],
  ): Promise<{ session: ort.InferenceSession; provider: Provider; cudaFallback?: string }> {
    const label = `model '${model.name}' version ${model.version}`;
    let cudaFallback: string | undefined;
    for (const [i, provider] of plan.entries()) {
      const last = i === plan.length - 1;
      if (provider === 'cuda' && this.#cudaUnavailable !== undefined) {
        if (last) throw new Error(`CUDA execution provider unavailable for ${label}: ${this.#cudaUnavailable}`);
        cudaFallback = this.#cudaUnavailable;
        continue;
      }
      try {
        const session = await ort.InferenceSession.create(model.file, this.#options(provider));
        return { session, provider, ...(cudaFallback !== undefined && provider !== 'cuda' ? { cudaFallback } : {}) };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (provider !== 'cuda') {
          throw new Error(`could not create an ONNX Runtime session for ${label} from ${model.file}: ${message}`, {
            cause: err,
          });
        }
        const reason = isProviderLoadFailure(message) ? `${message}${cudaLibraryHint()}` : message;
        if (isProviderLoadFailure(message)) this.#cudaUnavailable = reason;
        if (last) throw new Error(`CUDA execution provider could not be used for ${label}: ${reason}`, { cause: err });
        cudaFallback = reason;
      }
    }
    throw new Error(`no execution provider to try for ${label}`);
  }

  async load(model: ModelSpec, plan: Provider[]): Promise<LoadInfo> {
    const key = modelKey(model);
    const existing = this.#sessions.get(key);
    if (existing !== undefined) return existing.info;
    const { session, provider, cudaFallback } = await this.#create(model, plan);
    const inputs = ioInfo(session.inputNames, session.inputMetadata);
    const outputs = ioInfo(session.outputNames, session.outputMetadata);
    const problems = specProblems(model, inputs, outputs);
    if (problems.length > 0) {
      await session.release();
      throw new Error(
        `model '${model.name}' version ${model.version} does not match its configuration: ${problems.join('; ')}`,
      );
    }
    const info: LoadInfo = { provider, inputs, outputs, ...(cudaFallback !== undefined ? { cudaFallback } : {}) };
    const outputNames = model.outputs.length > 0 ? model.outputs.map((o) => o.name) : [...session.outputNames];
    this.#sessions.set(key, { session, plan, outputNames, info });
    return info;
  }

  /** Sessions can be unusable after an allocation failure inside a run, so they are rebuilt. */
  async reset(model: ModelSpec, plan: Provider[]): Promise<LoadInfo> {
    await this.unload(model);
    return this.load(model, plan);
  }

  async unload(model: ModelSpec): Promise<void> {
    const key = modelKey(model);
    const entry = this.#sessions.get(key);
    if (entry === undefined) return;
    this.#sessions.delete(key);
    await entry.session.release();
  }

  has(model: ModelSpec): boolean {
    return this.#sessions.has(modelKey(model));
  }

  async run(model: ModelSpec, inputs: Tensor[]): Promise<RunOutcome> {
    const entry = this.#sessions.get(modelKey(model));
    if (entry === undefined) throw new Error(`model '${model.name}' version ${model.version} is not loaded`);
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of inputs) {
      feeds[t.name] = new ort.Tensor(datatypeInfo(t.datatype).ort as ort.Tensor.Type, t.data, t.shape);
    }
    const started = performance.now();
    const results = await entry.session.run(feeds, entry.outputNames);
    const computeMs = performance.now() - started;
    const outputs = entry.outputNames.map((name): Tensor => {
      const value = results[name];
      if (!(value instanceof ort.Tensor))
        throw new ServiceError('inference_failed', `model output '${name}' is not a tensor`);
      const datatype = datatypeFromOrt(value.type);
      if (datatype === undefined) {
        throw new ServiceError(
          'inference_failed',
          `model output '${name}' has type ${value.type}, which the service cannot return`,
        );
      }
      return { name, datatype, shape: [...value.dims], data: value.data as TensorData };
    });
    return { outputs, computeMs, provider: entry.info.provider };
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(entries.map((e) => e.session.release()));
  }
}
