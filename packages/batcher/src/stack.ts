import { allocate, type ModelSpec, type Tensor } from '@tessera/contract';
import type { RowShape } from './padding.js';
import { copyRegion, rowSize, storedValue, type Scalar } from './tensor-copy.js';

/** Rows `[offset, offset + count)` of one request's inputs (model input order, batch first). */
export interface StackPart {
  inputs: readonly Tensor[];
  offset: number;
  count: number;
}

/** Non-batch dimensions of a tensor. */
export function rowDims(tensor: Tensor): number[] {
  return tensor.shape.slice(1);
}

/**
 * A request's row shape for the padding rules (see PaddingPolicy): only for models that pad an
 * input, since for the others requests that share a key have equal rows.
 */
export function rowShape(model: ModelSpec, inputs: readonly Tensor[]): RowShape | undefined {
  if (model.maxBatchSize <= 0 || !model.inputs.some((i) => (i.pad ?? []).length > 0)) return undefined;
  return {
    dims: inputs.map(rowDims),
    elementBytes: inputs.map((t) => (t.data as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1),
  };
}

/**
 * Requests with equal keys can share a batch: same datatypes and same non-batch dimensions,
 * except along axes the model pads.
 */
export function compatKey(model: ModelSpec, inputs: readonly Tensor[]): string {
  return inputs
    .map((t, i) => {
      const padded = new Set((model.inputs[i]?.pad ?? []).map((p) => p.axis));
      const dims = model.maxBatchSize > 0 ? rowDims(t) : t.shape;
      return `${t.datatype}[${dims.map((d, axis) => (padded.has(axis) ? '*' : String(d))).join(',')}]`;
    })
    .join('|');
}

/**
 * Concatenates the parts along the batch axis, padding each padded axis up to the largest
 * size in the batch with the pad rule's value. Parts must share a `compatKey`.
 * A single part holding a whole request is passed through without copying.
 */
export function stackInputs(model: ModelSpec, parts: readonly StackPart[]): Tensor[] {
  const first = parts[0];
  if (!first) throw new RangeError('cannot stack an empty batch');
  if (model.maxBatchSize <= 0) {
    if (parts.length !== 1)
      throw new RangeError(`model '${model.name}' has no batch dimension; cannot stack ${parts.length} requests`);
    return [...first.inputs];
  }
  if (parts.length === 1 && first.offset === 0 && first.inputs.every((t) => t.shape[0] === first.count)) {
    return [...first.inputs];
  }
  const total = parts.reduce((n, p) => n + p.count, 0);
  return first.inputs.map((head, i) => {
    const dims = rowDims(head);
    for (const part of parts) {
      const own = rowDims(tensorAt(part, i));
      for (let a = 0; a < dims.length; a++) dims[a] = Math.max(dims[a]!, own[a] ?? 0);
    }
    const fill: (Scalar | undefined)[] = [undefined];
    for (const rule of model.inputs[i]?.pad ?? []) fill[1 + rule.axis] = storedValue(head.datatype, rule.value);
    const size = rowSize(dims);
    const data = allocate(head.datatype, total * size);
    let row = 0;
    for (const part of parts) {
      const src = tensorAt(part, i);
      const own = rowDims(src);
      copyRegion(
        src.data,
        part.offset * rowSize(own),
        [part.count, ...own],
        data,
        row * size,
        [part.count, ...dims],
        fill,
      );
      row += part.count;
    }
    return { name: head.name, datatype: head.datatype, shape: [total, ...dims], data };
  });
}

function tensorAt(part: StackPart, i: number): Tensor {
  const t = part.inputs[i];
  if (!t) throw new RangeError(`request is missing input #${i}`);
  return t;
}
