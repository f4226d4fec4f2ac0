import { decodeModel, encodeModel, onnx, type Onnx } from '@tessera/onnx';
import * as ort from 'onnxruntime-node';
import { quantile } from './scales.js';

export type Feeds = Record<string, ort.Tensor>;
export type CalibrationMethod = 'minmax' | 'percentile';

export interface Range {
  min: number;
  max: number;
}

/** Values kept per tensor and run for the percentile method: a strided sample, so large maps do not dominate memory. */
const SAMPLE_PER_RUN = 16384;

/**
 * Activation ranges of `tensors` over the calibration feeds, read by running the model in ONNX
 * Runtime with those tensors added as graph outputs. 'minmax' takes the extremes; 'percentile'
 * the `percentile` and 1 - `percentile` quantiles of each tensor's values, which ignores the
 * rare outliers that would otherwise stretch the scale for every other value.
 */
export async function calibrate(
  model: Onnx.IModelProto,
  tensors: readonly string[],
  feeds: readonly Feeds[],
  method: CalibrationMethod,
  percentile = 0.9999,
): Promise<Map<string, Range>> {
  if (tensors.length === 0) return new Map(); // nothing left to quantize (e.g. every target excluded)
  const probe = decodeModel(encodeModel(model)); // a copy: the model itself is not changed
  const graph = probe.graph as Onnx.GraphProto;
  const existing = new Set(graph.output.map((o) => o.name));
  for (const name of tensors) {
    if (!existing.has(name))
      graph.output.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } }));
  }
  const session = await ort.InferenceSession.create(encodeModel(probe), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 2,
    graphOptimizationLevel: 'basic',
  });
  const extremes = new Map<string, Range>();
  const samples = new Map<string, number[]>();
  try {
    for (const feed of feeds) {
      const out = await session.run(feed, [...tensors]);
      for (const name of tensors) {
        const data = out[name]!.data as Float32Array;
        let min = Infinity;
        let max = -Infinity;
        for (let i = 0; i < data.length; i++) {
          const v = data[i]!;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        const r = extremes.get(name);
        extremes.set(name, { min: Math.min(min, r?.min ?? Infinity), max: Math.max(max, r?.max ?? -Infinity) });
        if (method === 'percentile') {
          const kept = samples.get(name) ?? [];
          const step = Math.max(1, Math.floor(data.length / SAMPLE_PER_RUN));
          for (let i = 0; i < data.length; i += step) kept.push(data[i]!);
          samples.set(name, kept);
        }
      }
    }
  } finally {
    await session.release();
  }
  if (method === 'minmax') return extremes;
  const ranges = new Map<string, Range>();
  for (const [name, kept] of samples) {
    const sorted = Float64Array.from(kept).sort();
    ranges.set(name, { min: quantile(sorted, 1 - percentile), max: quantile(sorted, percentile) });
  }
  return ranges;
}
