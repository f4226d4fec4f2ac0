import ort from 'onnxruntime-node';
import { allocate, datatypeInfo, type Tensor } from '@tessera/contract';
import type { ItemTensor } from '../measure/inputs.js';

/**
 * The session options the worker's inference thread uses on CPU (packages/runtime
 * session-store.ts), so that the in-process contenders run the same kernels with the same
 * threads and the comparison is about the serving path only.
 */
export function createSession(file: string, intraOpNumThreads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    intraOpNumThreads,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
  });
}

export function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(datatypeInfo(t.datatype).ort as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.shape);
}

/** `items` copies of one item stacked along a new batch axis, as the worker's batches are. */
export function stackItems(item: ItemTensor, items: number): Tensor {
  const per = item.values.length;
  const data = allocate(item.datatype, per * items);
  const big = data instanceof BigInt64Array || data instanceof BigUint64Array;
  for (let i = 0; i < per; i++) {
    const v = item.values[i]!;
    for (let n = 0; n < items; n++) (data as unknown as (number | bigint)[])[n * per + i] = big ? BigInt(v) : v;
  }
  return { name: item.name, datatype: item.datatype, shape: [items, ...item.shape], data };
}

export function feedsFor(items: readonly ItemTensor[], batch: number): Record<string, ort.Tensor> {
  return Object.fromEntries(items.map((t) => [t.name, toOrt(stackItems(t, batch))]));
}
