import { datatypeInfo } from '@tessera/contract';
import { encodeModel, fromBigInt, onnx, type Onnx } from './proto.js';
import { toTensorProto } from './tensor-proto.js';
import type { AttributeValue, Graph, Node, ValueInfo } from './types.js';

const ATTR = onnx.AttributeProto.AttributeType;

/**
 * IR version to stamp for a given default-domain opset: the newest IR that the ONNX release
 * introducing that opset wrote, so runtimes that know the opset also accept the file.
 */
export function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 11) return opset - 5;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

export function valueInfo(info: ValueInfo): Onnx.ValueInfoProto {
  // Any number that is not a size (e.g. -1) means "unknown": a Dimension with neither field set.
  const dim = (d: number | string) =>
    typeof d === 'string' ? { dimParam: d } : Number.isSafeInteger(d) && d >= 0 ? { dimValue: d } : {};
  return onnx.ValueInfoProto.create({
    name: info.name,
    type: { tensorType: { elemType: datatypeInfo(info.datatype).onnx, shape: { dim: info.shape.map(dim) } } },
  });
}

const int64 = (v: number | bigint) => (typeof v === 'bigint' ? fromBigInt(v) : v);

function attribute(name: string, value: AttributeValue): Onnx.AttributeProto {
  const a = onnx.AttributeProto.create({ name });
  if ('i' in value) Object.assign(a, { i: int64(value.i), type: ATTR.INT });
  else if ('f' in value) Object.assign(a, { f: value.f, type: ATTR.FLOAT });
  else if ('s' in value) Object.assign(a, { s: new TextEncoder().encode(value.s), type: ATTR.STRING });
  else if ('t' in value) Object.assign(a, { t: toTensorProto(value.t), type: ATTR.TENSOR });
  else if ('ints' in value) Object.assign(a, { ints: value.ints.map(int64), type: ATTR.INTS });
  else if ('floats' in value) Object.assign(a, { floats: value.floats, type: ATTR.FLOATS });
  else if ('strings' in value)
    Object.assign(a, { strings: value.strings.map((s) => new TextEncoder().encode(s)), type: ATTR.STRINGS });
  else throw new TypeError(`attribute '${name}' has no recognised tag (i, f, s, t, ints, floats, strings)`);
  return a;
}

export function nodeProto(node: Node, index: number): Onnx.NodeProto {
  return onnx.NodeProto.create({
    input: node.inputs,
    output: node.outputs,
    name: node.name ?? `${node.op}_${index}`,
    opType: node.op,
    attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attribute(name, value)),
    ...(node.domain ? { domain: node.domain } : {}),
  });
}

/** Serialises a graph to the bytes of an ONNX model file (ModelProto). */
export function buildModel(graph: Graph, opset = 17): Uint8Array {
  return encodeModel({
    irVersion: irVersionFor(opset),
    producerName: 'tessera',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: graph.name,
      node: graph.nodes.map(nodeProto),
      initializer: graph.initializers.map(toTensorProto),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  });
}
