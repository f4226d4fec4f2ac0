import { datatypeFromOnnx } from '@tessera/contract';
import { ProtoReader, stringField, WIRE_LEN } from './protobuf-reader.js';
import type { Signature, SigTensor } from './types.js';

/** ONNX's ModelProto/GraphProto/... field numbers used below, as in onnx.proto. */
const MODEL = { irVersion: 1, producer: 2, graph: 7, opset: 8 };
const GRAPH = { initializer: 5, input: 11, output: 12 };

function readTensorType(bytes: Uint8Array, out: SigTensor): void {
  const r = new ProtoReader(bytes);
  for (let t = r.tag(); t; t = r.tag()) {
    if (t.field === 1 && t.wire !== WIRE_LEN) {
      out.elemType = r.varint();
      out.datatype = datatypeFromOnnx(out.elemType);
    } else if (t.field === 2 && t.wire === WIRE_LEN) {
      out.rankKnown = true;
      const shape = new ProtoReader(r.bytes());
      for (let s = shape.tag(); s; s = shape.tag()) {
        if (s.field !== 1 || s.wire !== WIRE_LEN) {
          shape.skip(s.wire);
          continue;
        }
        const dim = new ProtoReader(shape.bytes());
        let value = -1;
        let param: string | undefined;
        for (let d = dim.tag(); d; d = dim.tag()) {
          if (d.field === 1 && d.wire !== WIRE_LEN) value = dim.varint();
          else if (d.field === 2 && d.wire === WIRE_LEN) param = dim.string();
          else dim.skip(d.wire);
        }
        // dim_value and dim_param share a oneof; a named dimension is variable.
        out.shape.push(param !== undefined || value < 0 ? -1 : value);
        out.dimParams.push(param !== undefined && param !== '' ? param : undefined);
      }
    } else {
      r.skip(t.wire);
    }
  }
}

function readValueInfo(bytes: Uint8Array): SigTensor {
  const out: SigTensor = { name: '', datatype: undefined, elemType: 0, shape: [], dimParams: [], rankKnown: false };
  const r = new ProtoReader(bytes);
  for (let t = r.tag(); t; t = r.tag()) {
    if (t.field === 1 && t.wire === WIRE_LEN) out.name = r.string();
    else if (t.field === 2 && t.wire === WIRE_LEN) {
      const type = new ProtoReader(r.bytes());
      for (let u = type.tag(); u; u = type.tag()) {
        // Only tensor_type (1) maps to a served tensor; sequences, maps etc. keep no datatype.
        if (u.field === 1 && u.wire === WIRE_LEN) readTensorType(type.bytes(), out);
        else type.skip(u.wire);
      }
    } else r.skip(t.wire);
  }
  return out;
}

/**
 * Reads the inputs and outputs a model declares, without decoding nodes or weights.
 * Graph inputs that are also initializers (weights listed as inputs by older exporters)
 * are not inputs a caller feeds, so they are left out.
 */
export function readSignature(bytes: Uint8Array): Signature {
  const sig: Signature = { inputs: [], outputs: [], opset: 0, producer: '', irVersion: 0 };
  const initializers = new Set<string>();
  const model = new ProtoReader(bytes);
  for (let t = model.tag(); t; t = model.tag()) {
    if (t.field === MODEL.irVersion && t.wire !== WIRE_LEN) sig.irVersion = model.varint();
    else if (t.field === MODEL.producer && t.wire === WIRE_LEN) sig.producer = model.string();
    else if (t.field === MODEL.opset && t.wire === WIRE_LEN) {
      const op = new ProtoReader(model.bytes());
      let domain = '';
      let version = 0;
      for (let u = op.tag(); u; u = op.tag()) {
        if (u.field === 1 && u.wire === WIRE_LEN) domain = op.string();
        else if (u.field === 2 && u.wire !== WIRE_LEN) version = op.varint();
        else op.skip(u.wire);
      }
      if (domain === '' || domain === 'ai.onnx') sig.opset = version;
    } else if (t.field === MODEL.graph && t.wire === WIRE_LEN) {
      const graph = new ProtoReader(model.bytes());
      for (let g = graph.tag(); g; g = graph.tag()) {
        if (g.wire !== WIRE_LEN) graph.skip(g.wire);
        else if (g.field === GRAPH.input) sig.inputs.push(readValueInfo(graph.bytes()));
        else if (g.field === GRAPH.output) sig.outputs.push(readValueInfo(graph.bytes()));
        else if (g.field === GRAPH.initializer) initializers.add(stringField(graph.bytes(), 8)); // TensorProto.name, payload untouched
        else graph.skip(g.wire);
      }
    } else model.skip(t.wire);
  }
  sig.inputs = sig.inputs.filter((i) => !initializers.has(i.name));
  return sig;
}
