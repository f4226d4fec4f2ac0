import { fromJson, type TensorInput } from '@tessera/client';
import type { ItemTensor } from './inputs.js';
import { varyValues, type Vary } from './vary.js';

/** Request `k`'s tensors: the item's, with the first tensor's first two values made unique. */
export function requestTensors(job: { tensors: ItemTensor[]; batched: boolean; vary: Vary }, k: number): TensorInput[] {
  return job.tensors.map((t, i) => {
    const values: (number | string)[] = [...t.values];
    if (i === 0) [values[0], values[1]] = varyValues(job.vary, k);
    return {
      name: t.name,
      datatype: t.datatype,
      shape: job.batched ? [1, ...t.shape] : t.shape,
      data: fromJson(t.datatype, values),
    };
  });
}
