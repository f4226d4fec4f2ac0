import type { ErrorCode, ModelSpec, Tensor } from '@tessera/contract';
import type { IoInfo, Provider } from './types.js';

/** Fixed for the thread's lifetime; handed over as workerData. */
export interface ThreadConfig {
  cudaDeviceId: number;
  intraOpNumThreads: number;
  interOpNumThreads: number | undefined;
  /** Turns the CPU arena off, so freed tensors return to the system between runs. */
  disableCpuArena: boolean;
}

export type Request =
  | { id: number; kind: 'load'; model: ModelSpec; plan: Provider[] }
  | { id: number; kind: 'reset'; model: ModelSpec; plan: Provider[] }
  | { id: number; kind: 'unload'; model: ModelSpec }
  | { id: number; kind: 'run'; model: ModelSpec; plan: Provider[]; inputs: Tensor[] }
  | { id: number; kind: 'close' }
  | { id: number; kind: 'ping' };

export interface LoadInfo {
  provider: Provider;
  inputs: IoInfo[];
  outputs: IoInfo[];
  /** Why CUDA was passed over for CPU, when it was. */
  cudaFallback?: string;
}

export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** Set when the thread already knows the service error code. */
  code?: ErrorCode;
}

export type Reply =
  | { id: number; ok: true; kind: 'load'; info: LoadInfo }
  | { id: number; ok: true; kind: 'reset'; info: LoadInfo }
  | { id: number; ok: true; kind: 'unload' }
  | { id: number; ok: true; kind: 'run'; outputs: Tensor[]; computeMs: number; provider: Provider; loaded?: LoadInfo }
  | { id: number; ok: true; kind: 'close' }
  | { id: number; ok: true; kind: 'ping' }
  | { id: number; ok: false; error: WireError };

/** First message from a thread whose onnxruntime binding loaded. */
export interface Ready {
  kind: 'ready';
  ortVersion: string | undefined;
}
