import type { Onnx } from '@tessera/onnx';
import type { NodeReport } from './report.js';
import { quantizeSymmetric, REDUCED_RANGE } from './scales.js';
import { intAttr, type WorkingGraph } from './working-graph.js';

export interface DynamicOptions {
  perChannel: boolean;
  /** Weights with fewer elements stay FP32: the quantize/dequantize steps would cost more than they save. */
  minWeights: number;
  /** Node names kept FP32 whatever their weights (ONNX Runtime's `nodes_to_exclude`). */
  exclude?: ReadonlySet<string>;
  /** Only nodes of these op types are quantized (ONNX Runtime's `op_types_to_quantize`); all when absent. */
  opTypes?: ReadonlySet<string>;
}

export const EXCLUDED = 'excluded by name (kept FP32)';
export const OP_NOT_SELECTED = 'op type not selected (kept FP32)';

/** Why a node is kept FP32 by the options alone, before its weights are looked at. */
export function keptByOptions(
  node: Onnx.NodeProto,
  opts: Pick<DynamicOptions, 'exclude' | 'opTypes'>,
): string | undefined {
  if (opts.exclude?.has(node.name ?? '')) return EXCLUDED;
  if (opts.opTypes && !opts.opTypes.has(node.opType ?? '')) return OP_NOT_SELECTED;
  return undefined;
}

const FLOAT = 1;
type Rewrite = { nodes: Onnx.NodeProto[]; as: string; reason: string } | { skip: string };

/** DynamicQuantizeLinear of an activation: its UINT8 values, scale and zero point, computed per run. */
function quantizeActivation(
  g: WorkingGraph,
  input: string,
  base: string,
  out: Onnx.NodeProto[],
): [string, string, string] {
  const q = [g.unique(`${base}_quantized`), g.unique(`${base}_scale`), g.unique(`${base}_zero_point`)] as [
    string,
    string,
    string,
  ];
  out.push(g.node('DynamicQuantizeLinear', [input], q, `${base}_DynamicQuantizeLinear`));
  return q;
}

/** int32 accumulator → float, times activation scale and weight scale(s), plus an optional bias. */
function rescale(
  g: WorkingGraph,
  acc: string,
  actScale: string,
  weightScale: string,
  output: string,
  base: string,
  out: Onnx.NodeProto[],
  bias?: string,
): void {
  const f = g.unique(`${base}_float`);
  const scale = g.unique(`${base}_scale`);
  const scaled = bias ? g.unique(`${base}_scaled`) : output;
  out.push(g.node('Cast', [acc], [f], `${base}_Cast`, { to: { i: FLOAT } }));
  out.push(g.node('Mul', [actScale, weightScale], [scale], `${base}_ScaleMul`));
  out.push(g.node('Mul', [f, scale], [scaled], `${base}_Mul`));
  if (bias) out.push(g.node('Add', [scaled, bias], [output], `${base}_BiasAdd`));
}

/** MatMul (or Gemm without transA) with a constant 2-D weight: MatMulInteger, which ORT fuses to MatMulIntegerToFloat. */
function matMul(g: WorkingGraph, node: Onnx.NodeProto, opts: DynamicOptions): Rewrite {
  const w = g.floatConstant(node.input[1] ?? '');
  if (!w) return { skip: 'weight is not an FP32 constant' };
  if (w.dims.length !== 2) return { skip: `weight has rank ${w.dims.length}, not 2` };
  if (w.data.length < opts.minWeights)
    return { skip: `weight of ${w.data.length} elements is below ${opts.minWeights}` };
  let [k, n] = w.dims as [number, number];
  let data = w.data;
  let bias: string | undefined;
  let alpha = 1;
  if (node.opType === 'Gemm') {
    if (intAttr(node, 'transA', 0)) return { skip: 'Gemm with transA' };
    alpha = node.attribute.find((a) => a.name === 'alpha')?.f ?? 1;
    const beta = node.attribute.find((a) => a.name === 'beta')?.f ?? 1;
    if (node.input[2] && beta !== 1) return { skip: 'Gemm with beta ≠ 1' };
    if (intAttr(node, 'transB', 0)) {
      [k, n] = [n, k];
      data = new Float32Array(k * n);
      for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) data[r * n + c] = w.data[c * k + r]!;
    }
    bias = node.input[2] || undefined;
  }
  const base = node.name || `${node.opType}_${node.output[0]}`;
  const q = quantizeSymmetric(data, [k, n], opts.perChannel ? 1 : undefined, REDUCED_RANGE);
  const scales = alpha === 1 ? q.scales : q.scales.map((s) => s * alpha);
  const perChannel = scales.length > 1;
  const wq = g.addInitializer(`${base}_weight_quantized`, 'INT8', [k, n], q.data);
  const wzp = g.addInitializer(
    `${base}_weight_zero_point`,
    'INT8',
    perChannel ? [n] : [],
    new Int8Array(perChannel ? n : 1),
  );
  const ws = g.addInitializer(`${base}_weight_scale`, 'FP32', perChannel ? [n] : [], scales);
  const out: Onnx.NodeProto[] = [];
  const [aq, as, azp] = quantizeActivation(g, node.input[0]!, base, out);
  const acc = g.unique(`${base}_int32`);
  out.push(g.node('MatMulInteger', [aq, wq, azp, wzp], [acc], `${base}_MatMulInteger`));
  rescale(g, acc, as, ws, node.output[0]!, base, out, bias);
  return {
    nodes: out,
    as: 'MatMulInteger',
    reason: `INT8 weight [${k}, ${n}] (7-bit range), ${perChannel ? 'per column' : 'per tensor'}`,
  };
}

/**
 * Conv with a constant weight: ConvInteger. ONNX Runtime's CPU kernel takes UINT8 weights with one
 * zero point, so weights are symmetric INT8 shifted by 128; per-channel scales are applied after.
 * UINT8 × UINT8 products do not saturate, so the full range is used.
 */
function conv(g: WorkingGraph, node: Onnx.NodeProto, opts: DynamicOptions): Rewrite {
  const w = g.floatConstant(node.input[1] ?? '');
  if (!w) return { skip: 'weight is not an FP32 constant' };
  if (w.data.length < opts.minWeights)
    return { skip: `weight of ${w.data.length} elements is below ${opts.minWeights}` };
  const base = node.name || `Conv_${node.output[0]}`;
  const channels = w.dims[0]!;
  const q = quantizeSymmetric(w.data, w.dims, opts.perChannel ? 0 : undefined);
  const shifted = Uint8Array.from(q.data, (v) => v + 128);
  const perChannel = q.scales.length > 1;
  const wq = g.addInitializer(`${base}_weight_quantized`, 'UINT8', w.dims, shifted);
  const wzp = g.addInitializer(`${base}_weight_zero_point`, 'UINT8', [], Uint8Array.of(128));
  const spatial = w.dims.length - 2;
  const channelDims = [1, channels, ...Array<number>(spatial).fill(1)];
  const ws = g.addInitializer(`${base}_weight_scale`, 'FP32', perChannel ? channelDims : [], q.scales);
  let bias: string | undefined;
  if (node.input[2]) {
    const b = g.floatConstant(node.input[2]);
    if (!b) return { skip: 'bias is not an FP32 constant' };
    bias = g.addInitializer(`${base}_bias`, 'FP32', channelDims, b.data);
  }
  const out: Onnx.NodeProto[] = [];
  const [xq, xs, xzp] = quantizeActivation(g, node.input[0]!, base, out);
  const acc = g.unique(`${base}_int32`);
  const convInteger = g.node('ConvInteger', [xq, wq, xzp, wzp], [acc], `${base}_ConvInteger`);
  convInteger.attribute = node.attribute;
  out.push(convInteger);
  rescale(g, acc, xs, ws, node.output[0]!, base, out, bias);
  return {
    nodes: out,
    as: 'ConvInteger',
    reason: `UINT8 weight ${JSON.stringify(w.dims)}, ${perChannel ? 'per output channel' : 'per tensor'}`,
  };
}

/** Gather from a constant FP32 table on axis 0: an INT8 table, rows dequantized after the gather. */
function gather(g: WorkingGraph, node: Onnx.NodeProto, opts: DynamicOptions): Rewrite {
  const table = g.floatConstant(node.input[0] ?? '');
  if (!table) return { skip: 'table is not an FP32 constant' };
  if (intAttr(node, 'axis', 0) !== 0) return { skip: 'gathers on an axis other than 0' };
  if (table.data.length < opts.minWeights)
    return { skip: `table of ${table.data.length} elements is below ${opts.minWeights}` };
  const base = node.name || `Gather_${node.output[0]}`;
  const q = quantizeSymmetric(table.data, table.dims, opts.perChannel ? 0 : undefined);
  const rows = table.dims[0]!;
  const perRow = q.scales.length > 1;
  const tq = g.addInitializer(`${base}_table_quantized`, 'INT8', table.dims, q.data);
  const out: Onnx.NodeProto[] = [];
  const gathered = g.unique(`${base}_int8`);
  const f = g.unique(`${base}_float`);
  out.push(g.node('Gather', [tq, node.input[1]!], [gathered], `${base}_Gather`, { axis: { i: 0 } }));
  out.push(g.node('Cast', [gathered], [f], `${base}_Cast`, { to: { i: FLOAT } }));
  let scale: string;
  if (perRow) {
    // One scale per row, gathered with the same indices and broadcast over the row's trailing dimensions.
    const trailing = table.dims.slice(1).map(() => 1);
    const scales = g.addInitializer(`${base}_row_scale`, 'FP32', [rows, ...trailing], q.scales);
    scale = g.unique(`${base}_scale`);
    out.push(g.node('Gather', [scales, node.input[1]!], [scale], `${base}_ScaleGather`, { axis: { i: 0 } }));
  } else {
    scale = g.addInitializer(`${base}_scale`, 'FP32', [], q.scales);
  }
  out.push(g.node('Mul', [f, scale], [node.output[0]!], `${base}_Mul`));
  return {
    nodes: out,
    as: 'Gather (INT8 table)',
    reason: `INT8 table ${JSON.stringify(table.dims)}, ${perRow ? 'per row' : 'per tensor'}`,
  };
}

const REWRITES: Record<string, (g: WorkingGraph, n: Onnx.NodeProto, o: DynamicOptions) => Rewrite> = {
  MatMul: matMul,
  Gemm: matMul,
  Conv: conv,
  Gather: gather,
};

/** Dynamic quantization (as onnxruntime's quantize_dynamic): weights INT8 ahead of time, activations per run. */
export function quantizeDynamic(g: WorkingGraph, opts: DynamicOptions): NodeReport[] {
  const report: NodeReport[] = [];
  const nodes: Onnx.NodeProto[] = [];
  for (const node of g.graph.node) {
    const rewrite = !node.domain || node.domain === 'ai.onnx' ? REWRITES[node.opType] : undefined;
    if (!rewrite) {
      nodes.push(node);
      continue;
    }
    const weight = g.constant(node.input[node.opType === 'Gather' ? 0 : 1] ?? '');
    const weights = weight ? weight.data.length : 0;
    const kept = keptByOptions(node, opts);
    const r = kept ? { skip: kept } : rewrite(g, node, opts);
    if ('skip' in r) {
      nodes.push(node);
      report.push({ node: node.name, op: node.opType, reason: r.skip, weights });
    } else {
      nodes.push(...r.nodes);
      report.push({ node: node.name, op: node.opType, as: r.as, reason: r.reason, weights });
    }
  }
  g.graph.node = nodes;
  g.pruneConstants();
  return report;
}
