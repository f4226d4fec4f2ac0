import { toHalfBits } from '@tessera/contract';
import { fromTensorProto, toTensorProto, type Onnx } from '@tessera/onnx';
import type { NodeReport } from './report.js';
import type { WorkingGraph } from './working-graph.js';

const FLOAT = 1;
const FLOAT16 = 10;

/** Inputs that the operator requires in FP32 whatever the data type: they keep their constants FP32. */
const FLOAT_ONLY_INPUTS: Record<string, number[]> = { Resize: [1, 2], Upsample: [1] };

function halfTensor(t: Onnx.ITensorProto): Onnx.TensorProto {
  const init = fromTensorProto(t);
  return toTensorProto({ ...init, datatype: 'FP16', data: Uint16Array.from(init.data as Float32Array, toHalfBits) });
}

/**
 * FP16 conversion for GPU workers: weights, constants and every intermediate tensor in float16,
 * the graph's FP32 inputs cast on the way in and its FP32 outputs cast back on the way out, so
 * the signature clients see is unchanged.
 */
export function toFloat16(g: WorkingGraph): NodeReport[] {
  const keepFloat = new Set<string>();
  for (const n of g.graph.node)
    for (const i of FLOAT_ONLY_INPUTS[n.opType] ?? []) if (n.input[i]) keepFloat.add(n.input[i]!);
  let converted = 0;
  let weights = 0;
  g.graph.initializer = g.graph.initializer.map((t) => {
    if (t.dataType !== FLOAT || keepFloat.has(t.name)) return t;
    converted++;
    weights += fromTensorProto(t).data.length;
    return halfTensor(t);
  });
  for (const n of g.graph.node) {
    if (n.opType === 'Constant' && !keepFloat.has(n.output[0] ?? '')) {
      for (const a of n.attribute) if (a.t && a.t.dataType === FLOAT) a.t = halfTensor(a.t);
    }
    if (n.opType === 'Cast') for (const a of n.attribute) if (a.name === 'to' && Number(a.i) === FLOAT) a.i = FLOAT16;
  }
  const renames = new Map<string, string>();
  const front: Onnx.NodeProto[] = [];
  for (const input of g.graph.input) {
    if (input.type?.tensorType?.elemType !== FLOAT) continue;
    const half = g.unique(`${input.name}_fp16`);
    renames.set(input.name, half);
    front.push(g.node('Cast', [input.name], [half], `${input.name}_to_fp16`, { to: { i: FLOAT16 } }));
  }
  const back: Onnx.NodeProto[] = [];
  const outputs = new Map<string, string>();
  for (const output of g.graph.output) {
    if (output.type?.tensorType?.elemType !== FLOAT) continue;
    const half = g.unique(`${output.name}_fp16`);
    outputs.set(output.name, half);
    back.push(g.node('Cast', [half], [output.name], `${output.name}_to_fp32`, { to: { i: FLOAT } }));
  }
  for (const n of g.graph.node) {
    n.input = n.input.map((i) => renames.get(i) ?? outputs.get(i) ?? i);
    n.output = n.output.map((o) => outputs.get(o) ?? o);
  }
  g.graph.node = [...front, ...g.graph.node, ...back];
  g.graph.valueInfo = []; // their element types changed; runtimes infer them again
  return [
    {
      node: '(all)',
      op: 'FP32 tensors',
      as: 'FP16',
      reason: `${converted} initializers (${weights} values) and every activation in float16; FP32 inputs and outputs cast at the edges`,
      weights,
    },
  ];
}
