import { allocate, datatypeFromOnnx, elementCount, viewBytes, type Datatype, type TensorData } from '@tessera/contract';
import { ProtoError, ProtoReader, WIRE_LEN } from './protobuf-reader.js';
import { readSignature } from './read-signature.js';
import type { AttributeValue, Graph, Initializer, Node, ValueInfo } from './types.js';

export interface ModelContents {
  graph: Graph;
  opset: number;
  producer: string;
  irVersion: number;
}

/** Decodes a TensorProto; raw_data is copied only when it is not aligned for the element type. */
function readTensor(bytes: Uint8Array): Initializer {
  const r = new ProtoReader(bytes);
  const dims: number[] = [];
  let name = '';
  let dataType = 0;
  let raw: Uint8Array | undefined;
  const numbers: number[] = [];
  const bigs: bigint[] = [];
  for (let t = r.tag(); t; t = r.tag()) {
    switch (t.field) {
      case 1: r.repeated(t.wire, (x) => x.varint(), dims); break;
      case 2: dataType = r.varint(); break;
      case 8: name = r.string(); break;
      case 9: raw = r.bytes(); break;
      case 4: r.repeated(t.wire, (x) => x.float(), numbers); break; // float_data
      case 5: r.repeated(t.wire, (x) => x.varint(), numbers); break; // int32_data (also FP16 bits, bool, 8/16-bit ints)
      case 10: r.repeated(t.wire, (x) => x.double(), numbers); break; // double_data
      case 7: r.repeated(t.wire, (x) => x.varintBig(), bigs); break; // int64_data
      case 11: r.repeated(t.wire, (x) => BigInt.asUintN(64, x.varintBig()), bigs); break; // uint64_data (also uint32)
      default: r.skip(t.wire);
    }
  }
  const datatype: Datatype | undefined = datatypeFromOnnx(dataType);
  if (!datatype) throw new ProtoError(`tensor '${name}' has unsupported data type ${dataType}`);
  let data: TensorData;
  if (raw) {
    data = viewBytes(datatype, raw);
  } else {
    const values = bigs.length > 0 ? bigs : numbers;
    data = allocate(datatype, values.length);
    const wide = datatype === 'INT64' || datatype === 'UINT64';
    values.forEach((v, i) => (data[i] = wide ? BigInt(v) : Number(v)));
  }
  if (data.length !== elementCount(dims)) {
    throw new ProtoError(`tensor '${name}' holds ${data.length} elements, dims ${JSON.stringify(dims)} need ${elementCount(dims)}`);
  }
  return { name, datatype, dims, data };
}

function readAttribute(bytes: Uint8Array): [string, AttributeValue | undefined] {
  const r = new ProtoReader(bytes);
  let name = '';
  let type = 0;
  let i: bigint | undefined;
  let f: number | undefined;
  let s: string | undefined;
  let t: Initializer | undefined;
  const ints: bigint[] = [];
  const floats: number[] = [];
  const strings: string[] = [];
  for (let tag = r.tag(); tag; tag = r.tag()) {
    switch (tag.field) {
      case 1: name = r.string(); break;
      case 2: f = r.float(); break;
      case 3: i = r.varintBig(); break;
      case 4: s = r.string(); break;
      case 5: t = readTensor(r.bytes()); break;
      case 7: r.repeated(tag.wire, (x) => x.float(), floats); break;
      case 8: r.repeated(tag.wire, (x) => x.varintBig(), ints); break;
      case 9: strings.push(r.string()); break;
      case 20: type = r.varint(); break;
      default: r.skip(tag.wire);
    }
  }
  const small = (v: bigint) => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  switch (type) {
    case 1: return [name, { f: f ?? 0 }];
    case 2: return [name, { i: small(i ?? 0n) }];
    case 3: return [name, { s: s ?? '' }];
    case 4: return [name, t ? { t } : undefined];
    case 6: return [name, { floats }];
    case 7: return [name, { ints: ints.map(small) }];
    case 8: return [name, { strings }];
    default: return [name, undefined]; // graphs, sparse tensors, type protos: not represented
  }
}

function readNode(bytes: Uint8Array): Node {
  const r = new ProtoReader(bytes);
  const node: Node = { op: '', inputs: [], outputs: [] };
  const attributes: Record<string, AttributeValue> = {};
  for (let t = r.tag(); t; t = r.tag()) {
    switch (t.field) {
      case 1: node.inputs.push(r.string()); break;
      case 2: node.outputs.push(r.string()); break;
      case 3: node.name = r.string(); break;
      case 4: node.op = r.string(); break;
      case 5: {
        const [name, value] = readAttribute(r.bytes());
        if (value) attributes[name] = value;
        break;
      }
      case 7: node.domain = r.string(); break;
      default: r.skip(t.wire);
    }
  }
  if (Object.keys(attributes).length > 0) node.attributes = attributes;
  return node;
}

/**
 * Decodes a whole model into the form `buildModel` takes. Signature tensors with a type
 * the protocol cannot carry, or an unknown rank, are an error here.
 */
export function readModel(bytes: Uint8Array): ModelContents {
  const sig = readSignature(bytes);
  const graph: Graph = { name: '', inputs: [], outputs: [], nodes: [], initializers: [] };
  const model = new ProtoReader(bytes);
  for (let t = model.tag(); t; t = model.tag()) {
    if (t.field !== 7 || t.wire !== WIRE_LEN) {
      model.skip(t.wire);
      continue;
    }
    const g = new ProtoReader(model.bytes());
    for (let u = g.tag(); u; u = g.tag()) {
      if (u.field === 1) graph.nodes.push(readNode(g.bytes()));
      else if (u.field === 2) graph.name = g.string();
      else if (u.field === 5) graph.initializers.push(readTensor(g.bytes()));
      else g.skip(u.wire);
    }
  }
  const toInfo = (s: (typeof sig.inputs)[number]): ValueInfo => {
    if (!s.datatype || !s.rankKnown) throw new ProtoError(`graph tensor '${s.name}' has no tensor type with known rank`);
    return { name: s.name, datatype: s.datatype, shape: s.shape.map((d, i) => s.dimParams[i] ?? d) };
  };
  graph.inputs = sig.inputs.map(toInfo);
  graph.outputs = sig.outputs.map(toInfo);
  return { graph, opset: sig.opset, producer: sig.producer, irVersion: sig.irVersion };
}
