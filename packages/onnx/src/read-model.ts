import { decodeModel, toBigInt, type Onnx } from './proto.js';
import { ProtoError } from './proto-error.js';
import { signatureOf } from './read-signature.js';
import { fromTensorProto } from './tensor-proto.js';
import type { AttributeValue, Graph, Node, ValueInfo } from './types.js';

export interface ModelContents {
  graph: Graph;
  opset: number;
  producer: string;
  irVersion: number;
}

const textDecoder = new TextDecoder();
const small = (v: bigint) =>
  v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;

/** Graphs, sparse tensors and type protos are not represented: undefined. */
function readAttribute(a: Onnx.IAttributeProto): AttributeValue | undefined {
  switch (a.type) {
    case 1:
      return { f: a.f ?? 0 };
    case 2:
      return { i: small(toBigInt(a.i)) };
    case 3:
      return { s: textDecoder.decode(a.s ?? new Uint8Array()) };
    case 4:
      return a.t ? { t: fromTensorProto(a.t) } : undefined;
    case 6:
      return { floats: [...(a.floats ?? [])] };
    case 7:
      return { ints: (a.ints ?? []).map((v) => small(toBigInt(v))) };
    case 8:
      return { strings: (a.strings ?? []).map((s) => textDecoder.decode(s)) };
    default:
      return undefined;
  }
}

function readNode(n: Onnx.INodeProto): Node {
  const node: Node = { op: n.opType ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])] };
  if (n.name) node.name = n.name;
  if (n.domain) node.domain = n.domain;
  const attributes: Record<string, AttributeValue> = {};
  for (const a of n.attribute ?? []) {
    const value = readAttribute(a);
    if (value) attributes[a.name ?? ''] = value;
  }
  if (Object.keys(attributes).length > 0) node.attributes = attributes;
  return node;
}

/**
 * Decodes a whole model into the form `buildModel` takes. Signature tensors with a type
 * the protocol cannot carry, or an unknown rank, are an error here.
 */
export function readModel(bytes: Uint8Array): ModelContents {
  const model = decodeModel(bytes);
  const sig = signatureOf(model);
  const g = model.graph ?? {};
  const toInfo = (s: (typeof sig.inputs)[number]): ValueInfo => {
    if (!s.datatype || !s.rankKnown)
      throw new ProtoError(`graph tensor '${s.name}' has no tensor type with known rank`);
    return { name: s.name, datatype: s.datatype, shape: s.shape.map((d, i) => s.dimParams[i] ?? d) };
  };
  const graph: Graph = {
    name: g.name ?? '',
    inputs: sig.inputs.map(toInfo),
    outputs: sig.outputs.map(toInfo),
    nodes: (g.node ?? []).map(readNode),
    initializers: (g.initializer ?? []).map(fromTensorProto),
  };
  return { graph, opset: sig.opset, producer: sig.producer, irVersion: sig.irVersion };
}
