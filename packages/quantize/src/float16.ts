import { toHalfBits } from '@tessera/contract';
import { fromTensorProto, toTensorProto, type Onnx } from '@tessera/onnx';
import { EXCLUDED } from './dynamic.js';
import type { NodeReport } from './report.js';
import type { WorkingGraph } from './working-graph.js';

const FLOAT = 1;
const FLOAT16 = 10;
/** The largest finite float16: a constant beyond it becomes ±Inf once converted. */
const FLOAT16_MAX = 65504;

/** Inputs that the operator requires in FP32 whatever the data type: they keep their constants FP32. */
const FLOAT_ONLY_INPUTS: Record<string, number[]> = { Resize: [1, 2], Upsample: [1] };

/**
 * Ops whose every input has the one float type, so a node of them can run in FP32 between a cast
 * of each input to FP32 and a cast of each output back (onnxconverter-common's `node_block_list`
 * works the same way). Others cannot be kept FP32 without type inference.
 */
const ALL_FLOAT_INPUTS = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Sum', 'Max', 'Min', 'PRelu', 'Conv', 'ConvTranspose', 'MatMul', 'Gemm',
  'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'Relu', 'Sigmoid', 'Tanh', 'Exp', 'Log',
  'Sqrt', 'Softmax', 'HardSigmoid', 'HardSwish', 'LeakyRelu',
]); // prettier-ignore

/** Finite values beyond float16's range are clamped to ±65,504 (as onnxconverter-common does); ±Inf stays. */
const clampToHalf = (v: number) =>
  toHalfBits(Number.isFinite(v) ? Math.max(-FLOAT16_MAX, Math.min(FLOAT16_MAX, v)) : v);

function halfTensor(t: Onnx.ITensorProto): Onnx.TensorProto {
  const init = fromTensorProto(t);
  return toTensorProto({ ...init, datatype: 'FP16', data: Uint16Array.from(init.data as Float32Array, clampToHalf) });
}

function largestAbs(data: Float32Array | undefined): number {
  let m = 0;
  for (const v of data ?? []) m = Math.max(m, Math.abs(v));
  return m;
}

/**
 * Nodes that stay FP32, with the reason: those named in `exclude`, and those reading a constant
 * float16 cannot hold. PP-OCR's detector is the case in point: a BatchNormalization in its head
 * has running variances of 1e7–1e8, which become +Inf in float16 and zero the whole text map.
 * A node of another op with such a constant (a Clip bound, say) is converted with the constant
 * clamped, and listed in `clamped`.
 */
function nodesKeptFloat(
  g: WorkingGraph,
  exclude: ReadonlySet<string>,
): { kept: Map<Onnx.NodeProto, string>; clamped: Map<Onnx.NodeProto, string> } {
  const kept = new Map<Onnx.NodeProto, string>();
  const clamped = new Map<Onnx.NodeProto, string>();
  for (const n of g.graph.node) {
    const largest = Math.max(0, ...n.input.map((i) => largestAbs(g.floatConstant(i)?.data)));
    const beyond =
      largest > FLOAT16_MAX ? `a constant beyond float16's range (|v| up to ${largest.toPrecision(3)})` : '';
    const castable = ALL_FLOAT_INPUTS.has(n.opType);
    if (exclude.has(n.name) && !castable)
      throw new Error(
        `node '${n.name}' (${n.opType}) cannot be kept FP32 in fp16 mode, which supports it only for ${[...ALL_FLOAT_INPUTS].join(', ')}`,
      );
    if (exclude.has(n.name)) kept.set(n, EXCLUDED);
    else if (beyond && castable) kept.set(n, `${beyond}: kept FP32 between casts`);
    else if (beyond) clamped.set(n, `${beyond}: converted, the constant clamped to ±65504`);
  }
  return { kept, clamped };
}

/** Constants every reader takes as FP32 (an FP32-only operator input or a node kept FP32): they are not converted. */
function constantsKeptFloat(g: WorkingGraph, kept: ReadonlyMap<Onnx.NodeProto, string>): Set<string> {
  const floatReads = new Set<string>();
  const halfReads = new Set<string>();
  for (const n of g.graph.node)
    n.input.forEach((name, i) =>
      (kept.has(n) || FLOAT_ONLY_INPUTS[n.opType]?.includes(i) ? floatReads : halfReads).add(name),
    );
  return new Set([...floatReads].filter((name) => !halfReads.has(name)));
}

/** Puts each kept node between casts: its float16 inputs to FP32 before it, its outputs back to float16 after. */
function castAround(g: WorkingGraph, kept: ReadonlyMap<Onnx.NodeProto, string>, keepFloat: ReadonlySet<string>): void {
  g.graph.node = g.graph.node.flatMap((n) => {
    if (!kept.has(n)) return [n];
    const before = n.input
      .map((name, i) => ({ name, i }))
      .filter(({ name }) => name && !(keepFloat.has(name) && g.constant(name)))
      .map(({ name, i }) => {
        const full = g.unique(`${name}_fp32`);
        n.input[i] = full;
        return g.node('Cast', [name], [full], `${n.name}_input${i}_to_fp32`, { to: { i: FLOAT } });
      });
    const after = n.output.map((name, i) => {
      const full = g.unique(`${name}_fp32`);
      n.output[i] = full;
      return g.node('Cast', [full], [name], `${n.name}_output${i}_to_fp16`, { to: { i: FLOAT16 } });
    });
    return [...before, n, ...after];
  });
}

/**
 * FP16 conversion for GPU workers: weights, constants and every intermediate tensor in float16,
 * the graph's FP32 inputs cast on the way in and its FP32 outputs cast back on the way out, so
 * the signature clients see is unchanged. Nodes in `exclude` and nodes with a constant float16
 * would overflow stay FP32 between casts.
 */
export function toFloat16(g: WorkingGraph, exclude: ReadonlySet<string> = new Set()): NodeReport[] {
  const { kept, clamped } = nodesKeptFloat(g, exclude);
  const keepFloat = constantsKeptFloat(g, kept);
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
  castAround(g, kept, keepFloat);
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
    ...[...kept].map(([n, reason]) => ({ node: n.name, op: n.opType, reason, weights: 0 })),
    ...[...clamped].map(([n, reason]) => ({ node: n.name, op: n.opType, as: 'FP16', reason, weights: 0 })),
  ];
}
