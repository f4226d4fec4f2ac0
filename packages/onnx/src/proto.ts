import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { ProtoError } from './proto-error.js';

/**
 * The ONNX protobuf messages, generated from onnx.proto with protobufjs (the `onnx-proto`
 * package). Every model is read and written through these, so fields this package does not
 * use (metadata, value_info, functions, training info, doc strings) survive an edit.
 */
export const { onnx } = onnxProto;
export type { Onnx };

/** protobufjs returns int64 fields as Long objects when the `long` package is present. */
interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
  toNumber(): number;
  toString(): string;
}

/** An int64 field as a JavaScript number (dims, versions, attribute ints within 2^53). */
export function toNumber(value: number | LongLike | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** An int64 field as an exact bigint. */
export function toBigInt(value: number | LongLike | null | undefined): bigint {
  if (value === null || value === undefined) return 0n;
  return typeof value === 'number' ? BigInt(value) : BigInt(value.toString());
}

/** A bigint as the {low, high} pair protobufjs's writer accepts for int64 fields. */
export function fromBigInt(value: bigint): { low: number; high: number; unsigned: boolean } {
  const u = BigInt.asUintN(64, value);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: false };
}

/** Decodes a whole ModelProto; a malformed file is a ProtoError. */
export function decodeModel(bytes: Uint8Array): Onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ProtoError(`not a readable ModelProto: ${(err as Error).message}`);
  }
}

export function encodeModel(model: Onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** The version of the default ONNX operator set a model imports (0 if none). */
export function defaultOpset(model: Onnx.IModelProto): number {
  const op = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return toNumber(op?.version);
}
