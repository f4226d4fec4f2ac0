/**
 * Tensors as typed arrays, and their two encodings on the wire: JSON numbers and raw
 * little-endian bytes (the binary tensor data extension, and gRPC's raw contents). Nothing here
 * uses a Node-only API, so it runs in browsers too.
 */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
] as const;
export type Datatype = (typeof DATATYPES)[number];

export type TypedArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  /** FP16 as raw IEEE half bits; BOOL as 0/1 bytes. */
  data: TypedArray;
}

/** An input: the datatype may be left out when the array's type says it (Float32Array → FP32, …). */
export type TensorInput = Omit<Tensor, 'datatype'> & { datatype?: Datatype };

type ArrayType = {
  new (length: number): TypedArray;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): TypedArray;
  BYTES_PER_ELEMENT: number;
};

const ARRAY: Record<Datatype, ArrayType> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** The datatype a typed array stands for when none is given (Uint8Array is UINT8, not BOOL; Uint16Array is UINT16, not FP16). */
const DEFAULT_FOR: [ArrayType, Datatype][] = [
  [Float32Array, 'FP32'],
  [Float64Array, 'FP64'],
  [BigInt64Array, 'INT64'],
  [BigUint64Array, 'UINT64'],
  [Int32Array, 'INT32'],
  [Uint32Array, 'UINT32'],
  [Int16Array, 'INT16'],
  [Uint16Array, 'UINT16'],
  [Int8Array, 'INT8'],
  [Uint8Array, 'UINT8'],
];

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

export function bytesPerElement(datatype: Datatype): number {
  return ARRAY[datatype].BYTES_PER_ELEMENT;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A complete tensor from an input: its datatype checked against (or taken from) its array. */
export function toTensor(input: TensorInput): Tensor {
  const datatype = input.datatype ?? DEFAULT_FOR.find(([type]) => input.data instanceof type)?.[1];
  if (!datatype) throw new TypeError(`input '${input.name}': data must be a typed array`);
  if (!(input.data instanceof ARRAY[datatype]))
    throw new TypeError(
      `input '${input.name}': ${datatype} data must be a ${ARRAY[datatype].name}, got ${input.data.constructor.name}`,
    );
  if (elementCount(input.shape) !== input.data.length) {
    throw new TypeError(
      `input '${input.name}': shape ${JSON.stringify(input.shape)} needs ${elementCount(input.shape)} elements, data has ${input.data.length}`,
    );
  }
  return { name: input.name, datatype, shape: input.shape, data: input.data };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN)
    throw new Error('raw tensor bytes are little-endian; this host is big-endian: use JSON (binary: false)');
}

/** The tensor's raw little-endian bytes (a view, no copy). */
export function tensorBytes(data: TypedArray): Uint8Array {
  assertLittleEndian();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A typed array from raw little-endian bytes; copied when they are not aligned for it. */
export function fromBytes(datatype: Datatype, bytes: Uint8Array): TypedArray {
  assertLittleEndian();
  const type = ARRAY[datatype];
  if (bytes.byteLength % type.BYTES_PER_ELEMENT !== 0)
    throw new RangeError(`${bytes.byteLength} bytes are not a whole number of ${datatype} elements`);
  // new Uint8Array(view) copies (a Buffer's slice() would not).
  const aligned = bytes.byteOffset % type.BYTES_PER_ELEMENT === 0 ? bytes : new Uint8Array(bytes);
  return new type(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / type.BYTES_PER_ELEMENT);
}

/** A typed array from JSON values (flat or nested); 64-bit integers may come as strings. */
export function fromJson(datatype: Datatype, values: unknown): TypedArray {
  const flat = Array.isArray(values) ? (values.flat(Infinity) as unknown[]) : [values];
  const out = new ARRAY[datatype](flat.length);
  flat.forEach((v, i) => {
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) out[i] = BigInt(v as number | string);
    else if (datatype === 'FP16') out[i] = toHalfBits(Number(v));
    else out[i] = typeof v === 'boolean' ? Number(v) : Number(v);
  });
  return out;
}

/** JSON values of a tensor: 64-bit integers beyond 2^53 as strings, FP16 as numbers, BOOL as booleans. */
export function toJson(t: Tensor): (number | boolean | string)[] {
  const d = t.data;
  if (t.datatype === 'BOOL') return Array.from(d as Uint8Array, (v) => v !== 0);
  if (t.datatype === 'FP16') return Array.from(d as Uint16Array, fromHalfBits);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array)
    return Array.from(d, (v) =>
      v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString(),
    );
  return Array.from(d as ArrayLike<number>);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits of a number (round to nearest even). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  e = half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0);
  return sign | e;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
