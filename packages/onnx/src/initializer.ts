import { allocate, elementCount, toHalfBits, type Datatype } from '@tessera/contract';
import type { Initializer } from './types.js';

/** Builds an initializer from plain values (numbers, or bigints for 64-bit integer types). */
export function initializer(
  name: string,
  datatype: Datatype,
  dims: number[],
  values: ArrayLike<number | bigint>,
): Initializer {
  const count = elementCount(dims);
  if (values.length !== count) {
    throw new RangeError(
      `initializer '${name}': shape ${JSON.stringify(dims)} needs ${count} values, got ${values.length}`,
    );
  }
  const data = allocate(datatype, count);
  const wide = datatype === 'INT64' || datatype === 'UINT64';
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (wide) data[i] = BigInt(v);
    else if (datatype === 'FP16') data[i] = toHalfBits(Number(v));
    else data[i] = Number(v);
  }
  return { name, datatype, dims: [...dims], data };
}
