import { datatypeFromOnnx } from '@tessera/contract';
import { decodeModel, defaultOpset, toNumber, type Onnx } from './proto.js';
import type { Signature, SigTensor } from './types.js';

function sigTensor(info: Onnx.IValueInfoProto): SigTensor {
  const out: SigTensor = { name: info.name ?? '', datatype: undefined, elemType: 0, shape: [], dimParams: [], rankKnown: false };
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
    const value = Object.hasOwn(d, 'dimValue') ? toNumber(d.dimValue) : -1 // decoded defaults sit on the prototype;
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

/** Reads the inputs and outputs a model declares. Weights are viewed, not copied, while decoding. */
export function readSignature(bytes: Uint8Array): Signature {
  return signatureOf(decodeModel(bytes));
}
