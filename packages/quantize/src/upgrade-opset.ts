import { defaultOpset, toNumber, type Onnx } from '@tessera/onnx';
import { attr, type WorkingGraph } from './working-graph.js';

/** Quantized operators need opset 13 (per-channel QuantizeLinear/DequantizeLinear, DynamicQuantizeLinear). */
export const QUANT_OPSET = 13;

/**
 * Operators whose meaning changed between opset 9 and 13 in a way a rewrite can follow:
 * attributes that became inputs. Everything else the PP-OCR and fastText graphs use kept its
 * meaning (added attributes default to the old behaviour) or is checked below.
 */
const ATTRIBUTES_TO_INPUTS: Record<string, { since: number; inputs: [string, 'INT64' | 'FP32'][] }> = {
  Slice: {
    since: 10,
    inputs: [
      ['starts', 'INT64'],
      ['ends', 'INT64'],
      ['axes', 'INT64'],
    ],
  },
  Clip: {
    since: 11,
    inputs: [
      ['min', 'FP32'],
      ['max', 'FP32'],
    ],
  },
  Squeeze: { since: 13, inputs: [['axes', 'INT64']] },
  Unsqueeze: { since: 13, inputs: [['axes', 'INT64']] },
  ReduceSum: { since: 13, inputs: [['axes', 'INT64']] },
  Split: { since: 13, inputs: [['split', 'INT64']] },
};

const SOFTMAX_LIKE = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);

/**
 * Before opset 13 these flattened the input to 2-D at `axis` and normalised the rows; from 13 they
 * work along `axis` alone. The tensor's rank is not known here, so the old meaning is spelled
 * out: Flatten at `axis`, the operator on the last axis, Reshape back (both free of copies).
 */
function flattenedSoftmax(g: WorkingGraph, node: Onnx.NodeProto): Onnx.NodeProto[] {
  const axis = toNumber(attr(node, 'axis')?.i ?? 1);
  const base = node.name || node.opType;
  const [x, y] = [node.input[0]!, node.output[0]!];
  const shape = g.unique(`${base}_shape`);
  const flat = g.unique(`${base}_flat`);
  const out2d = g.unique(`${base}_2d`);
  return [
    g.node('Shape', [x], [shape], `${base}_Shape`),
    g.node('Flatten', [x], [flat], `${base}_Flatten`, { axis: { i: axis } }),
    g.node(node.opType, [flat], [out2d], base, { axis: { i: -1 } }),
    g.node('Reshape', [out2d, shape], [y], `${base}_Reshape`),
  ];
}

/** Changed between 9 and 13 in ways not rewritten here: a model using them is not upgraded. */
const UNSUPPORTED = new Set(['Upsample', 'Pad', 'Resize', 'TopK', 'Scan', 'Loop', 'If']);

/**
 * Raises the default-domain opset to QUANT_OPSET, rewriting the operators listed above. Returns
 * the opset the model had. Softmax/LogSoftmax/Hardmax changed from "flatten to 2-D at axis" to
 * "along axis" at 13; they mean the same only on the last axis, which is required here.
 */
export function upgradeOpset(g: WorkingGraph): number {
  const from = defaultOpset(g.model);
  if (from >= QUANT_OPSET) return from;
  if (from < 9) throw new Error(`opset ${from} models are not upgraded (9 or later is)`);
  const nodes: Onnx.NodeProto[] = [];
  for (const node of g.graph.node) {
    nodes.push(...(SOFTMAX_LIKE.has(node.opType) && !node.domain ? flattenedSoftmax(g, node) : [node]));
    if (node.domain && node.domain !== 'ai.onnx') continue;
    if (UNSUPPORTED.has(node.opType) && from < 11) {
      throw new Error(`${node.opType} changed between opset ${from} and ${QUANT_OPSET}; this model is not upgraded`);
    }
    const rule = ATTRIBUTES_TO_INPUTS[node.opType];
    if (!rule || from >= rule.since) continue;
    const inputs = [...node.input];
    rule.inputs.forEach(([name, type], i) => {
      const a = attr(node, name);
      if (!a) return;
      const values = type === 'FP32' ? [a.f ?? 0] : (a.ints ?? []).map(toNumber);
      const dims = type === 'FP32' ? [] : [values.length];
      const data = type === 'FP32' ? Float32Array.from(values) : BigInt64Array.from(values.map(BigInt));
      while (inputs.length < i + 1) inputs.push('');
      inputs[i + 1] = g.addInitializer(`${node.name || node.opType}_${name}`, type, dims, data);
    });
    node.input = inputs;
    node.attribute = node.attribute.filter((a) => !rule.inputs.some(([name]) => name === a.name));
  }
  g.graph.node = nodes;
  g.requireOpset('', QUANT_OPSET);
  return from;
}
