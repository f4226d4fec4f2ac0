import { nodeProto, valueInfo } from './build-model.js';
import { decodeModel, encodeModel, type Onnx } from './proto.js';
import { ProtoError } from './proto-error.js';
import { toTensorProto } from './tensor-proto.js';
import type { Initializer, Node, ValueInfo } from './types.js';

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
 * Edits a model: every field of the ModelProto and of its GraphProto is kept as decoded
 * (weights are re-encoded from views, not converted), except the graph outputs that
 * `keepOutputs` rejects; the new nodes, initializers and outputs are appended. An output that
 * is no longer a graph output stays an intermediate value, so the runtime need not copy it out.
 */
export function editGraph(model: Uint8Array, edit: GraphEdit): Uint8Array {
  const decoded = decodeModel(model);
  const graph = decoded.graph as Onnx.GraphProto | null;
  if (!graph) throw new ProtoError('expected one graph in the model, found none');
  const names = new Set(graph.output.map((o) => o.name));
  graph.output = graph.output.filter((o) => edit.keepOutputs(o.name ?? ''));
  for (const o of edit.outputs ?? []) {
    if (names.has(o.name) && edit.keepOutputs(o.name)) throw new ProtoError(`graph already has an output '${o.name}'`);
    graph.output.push(valueInfo(o));
  }
  const first = graph.node.length;
  graph.node.push(...(edit.nodes ?? []).map((n, i) => nodeProto(n, first + i)));
  graph.initializer.push(...(edit.initializers ?? []).map(toTensorProto));
  return encodeModel(decoded);
}
