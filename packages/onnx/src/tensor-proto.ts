import {
  allocate,
  datatypeFromOnnx,
  datatypeInfo,
  elementCount,
  viewBytes,
  type Datatype,
  type TensorData,
} from '@tessera/contract';
import { onnx, toBigInt, toNumber, type Onnx } from './proto.js';
import { ProtoError } from './proto-error.js';
import type { Initializer } from './types.js';

/**
 * Decodes a TensorProto to an initializer. raw_data is viewed in place (copied only when it is
 * not aligned for the element type); typed fields (float_data, int32_data, …) are converted.
 */
export function fromTensorProto(t: Onnx.ITensorProto): Initializer {
  const name = t.name ?? '';
  const dataType = t.dataType ?? 0;
  const datatype: Datatype | undefined = datatypeFromOnnx(dataType);
  if (!datatype) throw new ProtoError(`tensor '${name}' has unsupported data type ${dataType}`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    throw new ProtoError(`tensor '${name}' keeps its data in an external file`);
  const dims = (t.dims ?? []).map(toNumber);
  let data: TensorData;
  if (t.rawData && t.rawData.byteLength > 0) {
    data = viewBytes(datatype, t.rawData);
  } else {
    const wide = datatype === 'INT64' || datatype === 'UINT64';
    const values: ArrayLike<unknown> = t.floatData?.length
      ? t.floatData
      : t.doubleData?.length
        ? t.doubleData
        : t.int64Data?.length
          ? t.int64Data
          : t.uint64Data?.length
            ? t.uint64Data
            : (t.int32Data ?? []); // also FP16 bits, bool and 8/16-bit integers
    data = allocate(datatype, values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number | Parameters<typeof toBigInt>[0];
      data[i] = wide ? (datatype === 'UINT64' ? BigInt.asUintN(64, toBigInt(v)) : toBigInt(v)) : toNumber(v);
    }
  }
  if (data.length !== elementCount(dims)) {
    throw new ProtoError(
      `tensor '${name}' holds ${data.length} elements, dims ${JSON.stringify(dims)} need ${elementCount(dims)}`,
    );
  }
  return { name, datatype, dims, data };
}

/** Encodes an initializer as a TensorProto with raw_data (little-endian, as typed arrays are on every platform Node runs on). */
export function toTensorProto(init: Initializer): Onnx.TensorProto {
  const { size, onnx: dataType } = datatypeInfo(init.datatype);
  const count = elementCount(init.dims);
  if (init.data.length !== count || init.data.BYTES_PER_ELEMENT !== size) {
    throw new RangeError(
      `initializer '${init.name}': ${init.datatype} ${JSON.stringify(init.dims)} needs ${count} elements of ${size} bytes, ` +
        `got ${init.data.length} of ${init.data.BYTES_PER_ELEMENT}`,
    );
  }
  return onnx.TensorProto.create({
    name: init.name,
    dims: [...init.dims],
    dataType,
    rawData: new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength),
  });
}
