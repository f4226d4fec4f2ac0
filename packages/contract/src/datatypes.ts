/**
 * Open Inference Protocol tensor datatypes and their in-memory representation.
 * BYTES (strings) is not served yet: no served model takes string tensors.
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

export type TensorData =
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

interface DatatypeInfo {
  /** Bytes per element. */
  readonly size: number;
  /** onnxruntime's tensor type name. */
  readonly ort: string;
  /** ONNX TensorProto.DataType enum value. */
  readonly onnx: number;
  readonly array: {
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
    new (length: number): TensorData;
  };
}

const INFO: Record<Datatype, DatatypeInfo> = {
  BOOL: { size: 1, ort: 'bool', onnx: 9, array: Uint8Array },
  UINT8: { size: 1, ort: 'uint8', onnx: 2, array: Uint8Array },
  UINT16: { size: 2, ort: 'uint16', onnx: 4, array: Uint16Array },
  UINT32: { size: 4, ort: 'uint32', onnx: 12, array: Uint32Array },
  UINT64: { size: 8, ort: 'uint64', onnx: 13, array: BigUint64Array },
  INT8: { size: 1, ort: 'int8', onnx: 3, array: Int8Array },
  INT16: { size: 2, ort: 'int16', onnx: 5, array: Int16Array },
  INT32: { size: 4, ort: 'int32', onnx: 6, array: Int32Array },
  INT64: { size: 8, ort: 'int64', onnx: 7, array: BigInt64Array },
  // FP16 travels as raw IEEE half bits in a Uint16Array, as onnxruntime expects.
  FP16: { size: 2, ort: 'float16', onnx: 10, array: Uint16Array },
  FP32: { size: 4, ort: 'float32', onnx: 1, array: Float32Array },
  FP64: { size: 8, ort: 'float64', onnx: 11, array: Float64Array },
};

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

export function datatypeInfo(datatype: Datatype): DatatypeInfo {
  return INFO[datatype];
}

export function datatypeFromOrt(ortType: string): Datatype | undefined {
  return DATATYPES.find((d) => INFO[d].ort === ortType);
}

export function datatypeFromOnnx(onnxType: number): Datatype | undefined {
  return DATATYPES.find((d) => INFO[d].onnx === onnxType);
}

export function allocate(datatype: Datatype, length: number): TensorData {
  return new INFO[datatype].array(length);
}

/** A typed-array view over `bytes` (copied first when it is not aligned for the element size). */
export function viewBytes(datatype: Datatype, bytes: Uint8Array): TensorData {
  const { size, array } = INFO[datatype];
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${datatype} elements`);
  }
  // new Uint8Array(bytes) copies; Buffer#slice would not (it returns a view at the same offset).
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  return new array(aligned.buffer, aligned.byteOffset, aligned.byteLength / size);
}

/** IEEE 754 half-precision bits of a number (round to nearest even). */
export function toHalfBits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
