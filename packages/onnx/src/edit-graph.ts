import { nodeProto, tensorProto, valueInfo } from './build-model.js';
import { ProtoError, ProtoReader, stringField, WIRE_LEN } from './protobuf-reader.js';
import { ProtoWriter } from './protobuf-writer.js';
import type { Initializer, Node, ValueInfo } from './types.js';

/** Field numbers from onnx.proto: ModelProto.graph, GraphProto.node / initializer / output. */
const MODEL_GRAPH = 7;
const GRAPH = { node: 1, initializer: 5, output: 12 } as const;

export interface GraphEdit {
  /** Graph outputs (by name) to keep; the others are removed from the graph's outputs. */
  keepOutputs: (name: string) => boolean;
  /** Nodes appended after the graph's own (names must be unique in the graph). */
  nodes?: Node[];
  /** Constants the new nodes read. */
  initializers?: Initializer[];
  /** Graph outputs appended after the kept ones. */
  outputs?: ValueInfo[];
}

/**
 * Copies each field of a message (tag included) to `out`, except those `replace` handles:
 * for a field it returns true for, nothing is copied.
 */
function copyFields(bytes: Uint8Array, out: ProtoWriter, replace: (field: number, wire: number, r: ProtoReader) => boolean): void {
  const r = new ProtoReader(bytes);
  for (let start = r.position, t = r.tag(); t; start = r.position, t = r.tag()) {
    if (replace(t.field, t.wire, r)) continue;
    r.skip(t.wire);
    out.raw(bytes.subarray(start, r.position));
  }
}

/**
 * Edits a model at protobuf wire level: every field of the ModelProto and of its GraphProto is
 * copied as it is (weights included, without decoding them), except the graph outputs that
 * `keepOutputs` rejects; the new nodes, initializers and outputs are appended. An output that
 * is no longer a graph output stays an intermediate value, so the runtime need not copy it out.
 */
export function editGraph(model: Uint8Array, edit: GraphEdit): Uint8Array {
  const out = new ProtoWriter();
  let graphs = 0;
  copyFields(model, out, (field, wire, r) => {
    if (field !== MODEL_GRAPH || wire !== WIRE_LEN) return false;
    graphs++;
    const graph = r.bytes();
    const g = new ProtoWriter();
    const names = new Set<string>();
    copyFields(graph, g, (f, w, gr) => {
      if (f !== GRAPH.output || w !== WIRE_LEN) return false;
      const info = gr.bytes();
      const name = stringField(info, 1); // ValueInfoProto.name
      names.add(name);
      if (edit.keepOutputs(name)) g.bytes(GRAPH.output, info);
      return true;
    });
    // Repeated fields may appear in any order on the wire; appended ones follow the graph's own.
    (edit.nodes ?? []).forEach((n, i) => g.message(GRAPH.node, nodeProto(n, i)));
    for (const init of edit.initializers ?? []) g.message(GRAPH.initializer, tensorProto(init));
    for (const o of edit.outputs ?? []) {
      if (names.has(o.name) && edit.keepOutputs(o.name)) throw new ProtoError(`graph already has an output '${o.name}'`);
      g.message(GRAPH.output, valueInfo(o));
    }
    out.message(MODEL_GRAPH, g);
    return true;
  });
  if (graphs !== 1) throw new ProtoError(`expected one graph in the model, found ${graphs}`);
  return out.finish();
}
