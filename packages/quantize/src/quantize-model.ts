import { decodeModel, encodeModel } from '@tessera/onnx';
import { calibrate, type CalibrationMethod, type Feeds } from './calibrate.js';
import { quantizeDynamic } from './dynamic.js';
import { toFloat16 } from './float16.js';
import type { NodeReport } from './report.js';
import { activationsOf, quantizeStatic, staticTargets } from './static-qdq.js';
import { upgradeOpset } from './upgrade-opset.js';
import { assertSameSignature, compareOutputs, type OutputDifference } from './validate.js';
import { WorkingGraph } from './working-graph.js';

export type QuantizeMode = 'dynamic' | 'static' | 'fp16';

export interface QuantizeOptions {
  mode: QuantizeMode;
  perChannel?: boolean;
  /** Weights smaller than this stay FP32 (default 4096 elements). */
  minWeights?: number;
  /** Static mode: how activation ranges are read from the calibration feeds. */
  method?: CalibrationMethod;
  percentile?: number;
  /**
   * Node names kept FP32 (ONNX Runtime's `nodes_to_exclude`; in fp16 mode between casts, as
   * onnxconverter-common's `node_block_list`), for the layers quantization hurts most, e.g. a
   * recogniser's classification head. A name the model lacks is an error.
   */
  exclude?: readonly string[];
  /** Only these op types are quantized (ONNX Runtime's `op_types_to_quantize`), e.g. ['MatMul']; all when absent. */
  opTypes?: readonly string[];
  /** Static mode: Conv weights UINT8 with the full 8-bit range (see StaticOptions). */
  uint8ConvWeights?: boolean;
  /** Static mode: model inputs to calibrate with; every mode: samples the output is validated on. */
  calibration?: readonly Feeds[];
}

export interface QuantizeResult {
  bytes: Uint8Array;
  report: NodeReport[];
  /** The opset the input model had (the output has at least 13). */
  fromOpset: number;
  /** Outputs compared with the original on the calibration feeds (empty without feeds). */
  differences: OutputDifference[];
}

/**
 * Quantizes an FP32 model. The result keeps the input/output signature and is loaded and run
 * in ONNX Runtime before it is returned (on the calibration feeds when given, so a model that
 * does not run is never written).
 */
export async function quantizeModel(original: Uint8Array, options: QuantizeOptions): Promise<QuantizeResult> {
  const g = new WorkingGraph(decodeModel(original));
  const report: NodeReport[] = [];
  const perChannel = options.perChannel ?? false;
  const minWeights = options.minWeights ?? 4096;
  const exclude = new Set(options.exclude ?? []);
  const unknown = [...exclude].filter((name) => !g.graph.node.some((n) => n.name === name));
  if (unknown.length > 0) throw new Error(`nodes to exclude not in the model: ${unknown.join(', ')}`);
  const opTypes = options.opTypes ? new Set(options.opTypes) : undefined;
  const fromOpset = options.mode === 'fp16' ? 0 : upgradeOpset(g);
  if (options.mode === 'dynamic') {
    report.push(...quantizeDynamic(g, { perChannel, minWeights, exclude, ...(opTypes ? { opTypes } : {}) }));
  } else if (options.mode === 'static') {
    const feeds = options.calibration ?? [];
    if (feeds.length === 0) throw new Error('static quantization needs calibration feeds');
    const uint8ConvWeights = options.uint8ConvWeights ?? false;
    const staticOptions = { perChannel, minWeights, exclude, ...(opTypes ? { opTypes } : {}), uint8ConvWeights };
    const targets = staticTargets(g, staticOptions, report);
    const ranges = await calibrate(
      g.model,
      activationsOf(targets),
      feeds,
      options.method ?? 'minmax',
      options.percentile,
    );
    quantizeStatic(g, targets, ranges, staticOptions, report);
  } else {
    report.push(...toFloat16(g, exclude));
  }
  g.model.producerName = `${g.model.producerName || 'unknown'} + tessera-quantize (${options.mode})`;
  const bytes = encodeModel(g.model);
  assertSameSignature(original, bytes);
  const samples = options.calibration?.slice(0, 4) ?? [];
  const differences = await compareOutputs(original, bytes, samples);
  return { bytes, report, fromOpset, differences };
}
