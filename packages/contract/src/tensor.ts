import { allocate, datatypeInfo, viewBytes, type Datatype, type TensorData } from './datatypes.js';

/** A tensor in memory. `shape` includes the batch dimension when the model batches. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/**
 * A tensor as it travels through Redis: raw little-endian bytes, base64 encoded in the job, or,
 * for a large input, stored raw under its own Redis key (`blob`, with `b64` empty), so that
 * neither tier turns hundreds of kilobytes into base64 and JSON strings.
 */
export interface WireTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  b64: string;
  blob?: string;
}

/** Inputs at least this large travel as a raw Redis value rather than base64 in the job. */
export const BLOB_MIN_BYTES = 16 * 1024;

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function toWire(tensor: Tensor): WireTensor {
  const bytes = bytesOf(tensor.data);
  return {
    name: tensor.name,
    datatype: tensor.datatype,
    shape: [...tensor.shape],
    b64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  };
}

/** The tensor a wire tensor describes; `raw` holds the bytes of a `blob` tensor. */
export function fromWire(wire: WireTensor, raw?: Uint8Array): Tensor {
  if (wire.blob !== undefined && raw === undefined)
    throw new RangeError(`tensor '${wire.name}' is stored apart (${wire.blob}); its bytes were not given`);
  const bytes = raw ?? Buffer.from(wire.b64, 'base64');
  const data = viewBytes(wire.datatype, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const expected = elementCount(wire.shape);
  if (data.length !== expected) {
    throw new RangeError(
      `tensor '${wire.name}' carries ${data.length} elements but its shape ${JSON.stringify(wire.shape)} needs ${expected}`,
    );
  }
  return { name: wire.name, datatype: wire.datatype, shape: [...wire.shape], data };
}

export function emptyTensor(name: string, datatype: Datatype, shape: number[]): Tensor {
  return { name, datatype, shape, data: allocate(datatype, elementCount(shape)) };
}

export function byteLength(tensor: Tensor): number {
  return elementCount(tensor.shape) * datatypeInfo(tensor.datatype).size;
}
