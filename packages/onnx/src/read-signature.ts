import { createRequire } from 'node:module';
import { datatypeFromOnnx } from '@tessera/contract';
import { defaultOpset, onnx, toNumber, type Onnx } from './proto.js';
import { ProtoError } from './proto-error.js';

/** protobufjs's Reader, the same instance the onnx-proto messages decode with. */
interface Reader {
  pos: number;
  len: number;
  uint32(): number;
  int64(): number;
  string(): string;
  skipType(wire: number): Reader;
}
const require = createRequire(createRequire(import.meta.url).resolve('onnx-proto'));
const { Reader: ReaderClass } = require('protobufjs/minimal') as { Reader: { create(bytes: Uint8Array): Reader } };
import type { Signature, SigTensor } from './types.js';

function sigTensor(info: Onnx.IValueInfoProto): SigTensor {
  const out: SigTensor = {
    name: info.name ?? '',
    datatype: undefined,
    elemType: 0,
    shape: [],
    dimParams: [],
    rankKnown: false,
  };
  // Only tensor_type maps to a served tensor; sequences, maps etc. keep no datatype.
  const tensor = info.type?.tensorType;
  if (!tensor) return out;
  out.elemType = tensor.elemType ?? 0;
  out.datatype = datatypeFromOnnx(out.elemType);
  if (!tensor.shape) return out;
  out.rankKnown = true;
  for (const d of tensor.shape.dim ?? []) {
    // dim_value and dim_param share a oneof; a named dimension is variable.
    const param = d.dimParam ? d.dimParam : undefined;
    const value = Object.hasOwn(d, 'dimValue') ? toNumber(d.dimValue) : -1; // decoded defaults sit on the prototype;
    out.shape.push(param !== undefined || value < 0 ? -1 : value);
    out.dimParams.push(param);
  }
  return out;
}

/** The signature of an already decoded model. */
export function signatureOf(model: Onnx.IModelProto): Signature {
  const graph = model.graph ?? {};
  // Graph inputs that are also initializers (weights listed as inputs by older exporters) are not inputs a caller feeds.
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  return {
    inputs: (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(sigTensor),
    outputs: (graph.output ?? []).map(sigTensor),
    opset: defaultOpset(model),
    producer: model.producerName ?? '',
    irVersion: toNumber(model.irVersion),
  };
}

/** A TensorProto's name (field 8), every other field skipped unread. */
function tensorName(r: Reader, end: number): string {
  let name = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 8) name = r.string();
    else r.skipType(tag & 7);
  }
  return name;
}

/** The graph's inputs, outputs and initializer names; nodes and weights are skipped unread. */
function graphHeader(r: Reader, end: number): Onnx.IGraphProto {
  const graph = {
    input: [] as Onnx.IValueInfoProto[],
    output: [] as Onnx.IValueInfoProto[],
    initializer: [] as Onnx.ITensorProto[],
  };
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 11) graph.input.push(onnx.ValueInfoProto.decode(r as never, r.uint32()));
    else if (field === 12) graph.output.push(onnx.ValueInfoProto.decode(r as never, r.uint32()));
    else if (field === 5) {
      const length = r.uint32();
      graph.initializer.push({ name: tensorName(r, r.pos + length) });
    } else r.skipType(tag & 7);
  }
  return graph;
}

/**
 * Reads the inputs and outputs a model declares with the onnx-proto messages, skipping nodes
 * and weights unread: a 10 MB model's signature costs what its few hundred tags cost.
 */
export function readSignature(bytes: Uint8Array): Signature {
  const r = ReaderClass.create(bytes);
  const model: Onnx.IModelProto = { opsetImport: [] };
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      switch (tag >>> 3) {
        case 1:
          model.irVersion = r.int64();
          break;
        case 2:
          model.producerName = r.string();
          break;
        case 7: {
          const length = r.uint32();
          model.graph = graphHeader(r, r.pos + length);
          break;
        }
        case 8:
          model.opsetImport!.push(onnx.OperatorSetIdProto.decode(r as never, r.uint32()));
          break;
        default:
          r.skipType(tag & 7);
      }
    }
  } catch (err) {
    throw new ProtoError(`not a readable ModelProto: ${(err as Error).message}`);
  }
  return signatureOf(model);
}
