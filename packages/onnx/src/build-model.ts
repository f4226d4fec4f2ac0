import { datatypeInfo, elementCount } from '@tessera/contract';
import { ProtoWriter } from './protobuf-writer.js';
import type { AttributeValue, Graph, Initializer, Node, ValueInfo } from './types.js';

/** AttributeProto.AttributeType values from onnx.proto. */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/**
 * IR version to stamp for a given default-domain opset: the newest IR that the ONNX release
 * introducing that opset wrote, so runtimes that know the opset also accept the file.
 */
function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 11) return opset - 5;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

export function tensorProto(init: Initializer): ProtoWriter {
  const { size, onnx } = datatypeInfo(init.datatype);
  const count = elementCount(init.dims);
  if (init.data.length !== count || init.data.BYTES_PER_ELEMENT !== size) {
    throw new RangeError(
      `initializer '${init.name}': ${init.datatype} ${JSON.stringify(init.dims)} needs ${count} elements of ${size} bytes, ` +
        `got ${init.data.length} of ${init.data.BYTES_PER_ELEMENT}`,
    );
  }
  const w = new ProtoWriter();
  for (const d of init.dims) w.varint(1, d);
  w.varint(2, onnx);
  w.string(8, init.name);
  // Typed arrays are little-endian on every platform Node runs on, which is what raw_data wants.
  w.bytes(9, new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
  return w;
}

export function valueInfo(info: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of info.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'string') dim.string(2, d);
    else if (Number.isSafeInteger(d) && d >= 0) dim.varint(1, d);
    // Any other number (e.g. -1) means "unknown": a Dimension with neither field set.
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, datatypeInfo(info.datatype).onnx).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, info.name).message(2, type);
}

function attribute(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('i' in value) w.varint(3, value.i).varint(20, ATTR.INT);
  else if ('f' in value) w.float(2, value.f).varint(20, ATTR.FLOAT);
  else if ('s' in value) w.string(4, value.s).varint(20, ATTR.STRING);
  else if ('t' in value) w.message(5, tensorProto(value.t)).varint(20, ATTR.TENSOR);
  else if ('ints' in value) {
    for (const v of value.ints) w.varint(8, v);
    w.varint(20, ATTR.INTS);
  } else if ('floats' in value) {
    for (const v of value.floats) w.float(7, v);
    w.varint(20, ATTR.FLOATS);
  } else if ('strings' in value) {
    for (const v of value.strings) w.string(9, v);
    w.varint(20, ATTR.STRINGS);
  } else {
    throw new TypeError(`attribute '${name}' has no recognised tag (i, f, s, t, ints, floats, strings)`);
  }
  return w;
}

export function nodeProto(node: Node, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  w.string(3, node.name ?? `${node.op}_${index}`);
  w.string(4, node.op);
  for (const [name, value] of Object.entries(node.attributes ?? {})) w.message(5, attribute(name, value));
  if (node.domain) w.string(7, node.domain);
  return w;
}

/** Serialises a graph to the bytes of an ONNX model file (ModelProto). */
export function buildModel(graph: Graph, opset = 17): Uint8Array {
  const g = new ProtoWriter();
  graph.nodes.forEach((n, i) => g.message(1, nodeProto(n, i)));
  g.string(2, graph.name);
  for (const init of graph.initializers) g.message(5, tensorProto(init));
  for (const input of graph.inputs) g.message(11, valueInfo(input));
  for (const output of graph.outputs) g.message(12, valueInfo(output));

  const model = new ProtoWriter();
  model.varint(1, irVersionFor(opset));
  model.string(2, 'tessera');
  model.message(7, g);
  model.message(8, new ProtoWriter().string(1, '').varint(2, opset));
  return model.finish();
}
