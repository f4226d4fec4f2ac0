import type { Onnx } from '@tessera/onnx';
import type { Range } from './calibrate.js';
import { keptByOptions } from './dynamic.js';
import type { NodeReport } from './report.js';
import { asymmetricUint8, FULL_RANGE, quantizeSymmetric, REDUCED_RANGE } from './scales.js';
import type { WorkingGraph } from './working-graph.js';

export interface StaticOptions {
  perChannel: boolean;
  minWeights: number;
  /** Node names kept FP32, their activations calibrated only where a quantized node reads or writes them. */
  exclude?: ReadonlySet<string>;
  opTypes?: ReadonlySet<string>;
  /**
   * Conv weights as UINT8 around zero point 128 with the full 8-bit range: ONNX Runtime then runs
   * the exact UINT8 × UINT8 kernel instead of the saturating UINT8 × INT8 one, so weights need
   * not be cut to 7 bits (see REDUCED_RANGE).
   */
  uint8ConvWeights?: boolean;
}

/** A node static quantization covers: its activation input, its output, its weight (and bias) and the weight's channel axis. */
interface Target {
  node: Onnx.NodeProto;
  weight: { dims: number[]; data: Float32Array };
  bias?: Float32Array;
  axis: number;
}

/** Conv and MatMul with a constant FP32 weight, which ONNX Runtime runs as QLinearConv / QLinearMatMul once wrapped in QDQ. */
export function staticTargets(g: WorkingGraph, opts: StaticOptions, report: NodeReport[]): Target[] {
  const targets: Target[] = [];
  for (const node of g.graph.node) {
    if (node.domain && node.domain !== 'ai.onnx') continue;
    if (node.opType !== 'Conv' && node.opType !== 'MatMul') continue;
    const skip = (reason: string, weights = 0) => report.push({ node: node.name, op: node.opType, reason, weights });
    const kept = keptByOptions(node, opts);
    if (kept) {
      skip(kept, g.floatConstant(node.input[1] ?? '')?.data.length ?? 0);
      continue;
    }
    const weight = g.floatConstant(node.input[1] ?? '');
    if (!weight) {
      skip('weight is not an FP32 constant (activation × activation)');
      continue;
    }
    if (weight.data.length < opts.minWeights) {
      skip(`weight of ${weight.data.length} elements is below ${opts.minWeights}`, weight.data.length);
      continue;
    }
    if (node.opType === 'MatMul' && weight.dims.length !== 2) {
      skip(`weight has rank ${weight.dims.length}, not 2`, weight.data.length);
      continue;
    }
    let bias: Float32Array | undefined;
    if (node.opType === 'Conv' && node.input[2]) {
      bias = g.floatConstant(node.input[2])?.data;
      if (!bias) {
        skip('bias is not an FP32 constant', weight.data.length);
        continue;
      }
    }
    targets.push({ node, weight, ...(bias ? { bias } : {}), axis: node.opType === 'Conv' ? 0 : 1 });
  }
  return targets;
}

/** The activations to calibrate: each target's input and output. */
export function activationsOf(targets: readonly Target[]): string[] {
  return [...new Set(targets.flatMap((t) => [t.node.input[0]!, t.node.output[0]!]))];
}

/**
 * QDQ static quantization: every calibrated activation passes through QuantizeLinear →
 * DequantizeLinear (UINT8, asymmetric) right after it is produced, and each target's weight is
 * stored INT8 (symmetric, per output channel or per tensor) behind a DequantizeLinear, its bias
 * INT32 at scale input × weight. ONNX Runtime recognises the pattern and runs the integer
 * kernels; any other runtime still computes the same values in float.
 */
export function quantizeStatic(
  g: WorkingGraph,
  targets: readonly Target[],
  ranges: ReadonlyMap<string, Range>,
  opts: StaticOptions,
  report: NodeReport[],
): void {
  const dq = new Map<string, string>();
  const params = new Map<string, { scale: number; zeroPoint: number; scaleName: string; zpName: string }>();
  const qdqAfter = new Map<string, Onnx.NodeProto[]>(); // producer output → its Q and DQ nodes
  const front: Onnx.NodeProto[] = [];
  for (const [name, range] of ranges) {
    const p = asymmetricUint8(range.min, range.max);
    const scaleName = g.addInitializer(`${name}_scale`, 'FP32', [], Float32Array.of(p.scale));
    const zpName = g.addInitializer(`${name}_zero_point`, 'UINT8', [], Uint8Array.of(p.zeroPoint));
    params.set(name, { ...p, scaleName, zpName });
    const q = g.unique(`${name}_quantized`);
    const d = g.unique(`${name}_dequantized`);
    dq.set(name, d);
    qdqAfter.set(name, [
      g.node('QuantizeLinear', [name, scaleName, zpName], [q], `${name}_QuantizeLinear`),
      g.node('DequantizeLinear', [q, scaleName, zpName], [d], `${name}_DequantizeLinear`),
    ]);
  }
  for (const t of targets) {
    const input = params.get(t.node.input[0]!);
    if (!input) {
      report.push({
        node: t.node.name,
        op: t.node.opType,
        reason: 'input was not calibrated',
        weights: t.weight.data.length,
      });
      continue;
    }
    const base = t.node.name || `${t.node.opType}_${t.node.output[0]}`;
    const unsigned = opts.uint8ConvWeights === true && t.node.opType === 'Conv';
    const qmax = unsigned ? FULL_RANGE : REDUCED_RANGE;
    const q = quantizeSymmetric(t.weight.data, t.weight.dims, opts.perChannel ? t.axis : undefined, qmax);
    const perChannel = q.scales.length > 1;
    const channels = q.scales.length;
    const wq = unsigned
      ? g.addInitializer(
          `${base}_weight_quantized`,
          'UINT8',
          t.weight.dims,
          Uint8Array.from(q.data, (v) => v + 128),
        )
      : g.addInitializer(`${base}_weight_quantized`, 'INT8', t.weight.dims, q.data);
    const ws = g.addInitializer(`${base}_weight_scale`, 'FP32', perChannel ? [channels] : [], q.scales);
    const wzp = unsigned
      ? g.addInitializer(
          `${base}_weight_zero_point`,
          'UINT8',
          perChannel ? [channels] : [],
          new Uint8Array(channels).fill(128),
        )
      : g.addInitializer(`${base}_weight_zero_point`, 'INT8', perChannel ? [channels] : [], new Int8Array(channels));
    const wdq = g.unique(`${base}_weight_dequantized`);
    const axis: Record<string, { i: number }> = perChannel ? { axis: { i: t.axis } } : {};
    front.push(g.node('DequantizeLinear', [wq, ws, wzp], [wdq], `${base}_weight_DequantizeLinear`, axis));
    const inputs = [t.node.input[0]!, wdq];
    if (t.bias) {
      const biasScales = Float32Array.from(t.bias, (_, c) => input.scale * q.scales[perChannel ? c : 0]!);
      const bq = Int32Array.from(t.bias, (b, c) => Math.round(b / biasScales[c]!));
      const bs = g.addInitializer(`${base}_bias_scale`, 'FP32', [t.bias.length], biasScales);
      const bzp = g.addInitializer(`${base}_bias_zero_point`, 'INT32', [t.bias.length], new Int32Array(t.bias.length));
      const bqName = g.addInitializer(`${base}_bias_quantized`, 'INT32', [t.bias.length], bq);
      const bdq = g.unique(`${base}_bias_dequantized`);
      front.push(
        g.node('DequantizeLinear', [bqName, bs, bzp], [bdq], `${base}_bias_DequantizeLinear`, { axis: { i: 0 } }),
      );
      inputs.push(bdq);
    }
    t.node.input = inputs;
    report.push({
      node: t.node.name,
      op: t.node.opType,
      as: `QDQ ${t.node.opType}`,
      weights: t.weight.data.length,
      reason: `${unsigned ? 'UINT8 weight (8-bit range)' : 'INT8 weight (7-bit range)'} ${JSON.stringify(t.weight.dims)} ${perChannel ? 'per channel' : 'per tensor'}, UINT8 activations`,
    });
  }
  // Readers of a calibrated tensor read its dequantized copy; graph outputs keep the float value.
  const nodes: Onnx.NodeProto[] = [...front];
  for (const name of g.graph.input.map((i) => i.name)) nodes.push(...(qdqAfter.get(name) ?? []));
  for (const node of g.graph.node) {
    node.input = node.input.map((i) => dq.get(i) ?? i);
    nodes.push(node, ...node.output.flatMap((o) => qdqAfter.get(o) ?? []));
  }
  g.graph.node = nodes;
  g.pruneConstants();
}
