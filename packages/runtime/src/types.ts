import type { Datatype, ModelSpec, Runner } from '@tessera/contract';

/** Structured logger (pino's `(obj, msg)` call shape). */
export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type DeviceSetting = 'auto' | 'cuda' | 'cpu';
export type Provider = 'cuda' | 'cpu';

export interface OrtRunnerOptions {
  /** 'cpu' forces CPU, 'cuda' requires CUDA, 'auto' follows each model's preference with CPU fallback. */
  device: DeviceSetting;
  cudaDeviceId: number;
  /** Always set: several worker processes share the machine's cores. */
  intraOpNumThreads: number;
  interOpNumThreads?: number;
  logger?: Logger;
  /**
   * Caps how far this process's address space may grow beyond its size once the runner and its
   * sessions are loaded (soft RLIMIT_AS, set with util-linux `prlimit` on the process's own pid,
   * re-applied after every load/reset). Larger allocations inside ONNX Runtime then fail with a
   * catchable out-of-memory error instead of the kernel OOM killer ending the process. Linux only;
   * it also turns the CPU memory arena off so memory goes back after each run. Meant for
   * provoking real allocation failures in tests; it limits JavaScript heaps too.
   */
  addressSpaceHeadroomMb?: number;
}

export type { RunResult, Runner } from '@tessera/contract';

/** A graph input or output as the loaded session reports it. */
export interface IoInfo {
  name: string;
  /** Undefined when the ONNX type has no protocol datatype, or this ORT build has no metadata. */
  datatype: Datatype | undefined;
  /** onnxruntime's type name, e.g. 'float32'. */
  ortType: string | undefined;
  /** Fixed sizes, or symbolic dimension names; undefined without metadata. */
  shape: (number | string)[] | undefined;
}

export interface LoadResult {
  provider: Provider;
  inputs: IoInfo[];
  outputs: IoInfo[];
}

export interface OrtRunner extends Runner {
  /** Creates the model's session now rather than on its first run. */
  load(model: ModelSpec): Promise<LoadResult>;
  /** Releases the model's session (an unloaded version). */
  unload(model: ModelSpec): Promise<void>;
  /** The provider the model's session runs on, if it is loaded. */
  provider(model: ModelSpec): Provider | undefined;
  /** Resolves once the inference thread answers (the worker's liveness probe). */
  ping(): Promise<void>;
  /** Releases every session and ends the inference thread; safe to call more than once. */
  close(): Promise<void>;
}
