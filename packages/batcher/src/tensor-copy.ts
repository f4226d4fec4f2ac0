import { elementCount, toHalfBits, type Datatype, type TensorData } from '@tessera/contract';

/** Element value as a typed array of the datatype stores it. */
export type Scalar = number | bigint;

// TensorData is a union whose methods TypeScript cannot call with a union argument; every
// operation here keeps source and destination of the same datatype, so one loose view is safe.
interface Loose {
  readonly length: number;
  set(values: Loose, offset: number): void;
  subarray(begin: number, end: number): Loose;
  fill(value: Scalar, start: number, end: number): void;
}

function loose(data: TensorData): Loose {
  return data as unknown as Loose;
}

/** The stored form of a pad value: half bits for FP16, bigint for 64-bit integers. */
export function storedValue(datatype: Datatype, value: number): Scalar {
  switch (datatype) {
    case 'FP16':
      return toHalfBits(value);
    case 'INT64':
    case 'UINT64':
      return BigInt(Math.trunc(value));
    case 'BOOL':
      return value ? 1 : 0;
    default:
      return value;
  }
}

/** Elements in one row (everything after the batch dimension). */
export function rowSize(dims: readonly number[]): number {
  return elementCount(dims);
}

/**
 * Copies the overlap of a row-major block `src` (dims `srcDims`, starting at `srcOffset`) into
 * `dst` (dims `dstDims`, starting at `dstOffset`). Where `dst` is larger along an axis, the
 * extra positions get `fill[axis]`; a missing fill value there is a caller bug.
 * Innermost axes that agree are copied as one contiguous run.
 */
export function copyRegion(
  src: TensorData,
  srcOffset: number,
  srcDims: readonly number[],
  dst: TensorData,
  dstOffset: number,
  dstDims: readonly number[],
  fill: readonly (Scalar | undefined)[] = [],
): void {
  const rank = srcDims.length;
  if (dstDims.length !== rank) throw new RangeError(`rank mismatch: ${rank} vs ${dstDims.length}`);
  const s = loose(src);
  const d = loose(dst);
  if (rank === 0) {
    d.set(s.subarray(srcOffset, srcOffset + 1), dstOffset);
    return;
  }
  const srcStride = strides(srcDims);
  const dstStride = strides(dstDims);
  // sameFrom[j]: axes j.. have identical extents, so a block at axis j-1 is contiguous in both.
  const sameFrom: boolean[] = new Array<boolean>(rank + 1).fill(true);
  for (let j = rank - 1; j >= 0; j--) sameFrom[j] = sameFrom[j + 1]! && srcDims[j] === dstDims[j];

  const walk = (axis: number, so: number, dOff: number): void => {
    const n = Math.min(srcDims[axis]!, dstDims[axis]!);
    const sStride = srcStride[axis]!;
    const dStride = dstStride[axis]!;
    if (sameFrom[axis + 1]) {
      d.set(s.subarray(so, so + n * sStride), dOff);
    } else {
      for (let i = 0; i < n; i++) walk(axis + 1, so + i * sStride, dOff + i * dStride);
    }
    const extra = dstDims[axis]! - n;
    if (extra > 0) {
      const value = fill[axis];
      if (value === undefined) throw new RangeError(`no pad value for axis ${axis}`);
      d.fill(value, dOff + n * dStride, dOff + dstDims[axis]! * dStride);
    }
  };
  walk(0, srcOffset, dstOffset);
}

function strides(dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  let acc = 1;
  for (let j = dims.length - 1; j >= 0; j--) {
    out[j] = acc;
    acc *= dims[j]!;
  }
  return out;
}
