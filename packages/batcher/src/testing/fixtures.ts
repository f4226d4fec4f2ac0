import { allocate, ServiceError, type Datatype, type ModelSpec, type Tensor } from '@tessera/contract';
import type { BatchRequest } from '../types.js';

export function makeModel(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    name: 'm',
    version: '1',
    platform: 'onnxruntime_onnx',
    file: 'm.onnx',
    maxBatchSize: 8,
    maxQueueDelayMs: 10,
    maxItemsPerRequest: 64,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [2] }],
    executionProviders: ['cpu'],
    labels: {},
    ...overrides,
  };
}

export function tensor(
  name: string,
  datatype: Datatype,
  shape: number[],
  values: readonly (number | bigint)[],
): Tensor {
  const data = allocate(datatype, values.length);
  values.forEach((v, i) => ((data as unknown as (number | bigint)[])[i] = v));
  return { name, datatype, shape, data };
}

/** `items` rows of width `width`, row r holding base + r*width .. base + r*width + width-1. */
export function rows(base: number, items: number, width = 2): number[] {
  return Array.from({ length: items * width }, (_, i) => base + i);
}

let next = 0;

export function request(
  model: ModelSpec,
  items: number,
  base: number,
  extra: Partial<BatchRequest> = {},
): BatchRequest {
  const width = model.inputs[0]?.shape[0] ?? 2;
  return {
    id: `r${next++}`,
    model,
    items,
    inputs: [tensor('x', 'FP32', [items, width], rows(base, items, width))],
    enqueuedAt: 0,
    ...extra,
  };
}

/** Lets every queued promise callback run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class OomError extends Error {
  constructor() {
    super('CUDA failure 2: out of memory');
  }
}

export const isOom = (err: unknown): boolean => err instanceof OomError;

export const classify = (err: unknown): ServiceError =>
  new ServiceError('model_rejected_input', err instanceof Error ? err.message : String(err));

export function values(t: Tensor | undefined): number[] {
  if (!t) throw new Error('missing tensor');
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}
