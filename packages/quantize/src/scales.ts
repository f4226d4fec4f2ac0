/**
 * Quantization arithmetic, free of graphs: how a float range becomes a scale and zero point,
 * and how weights become 8-bit integers. Conventions are ONNX's: real = scale * (q - zero_point).
 */

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/**
 * The largest INT8 weight for weights that meet UINT8 activations in an integer matrix product.
 * x86 CPUs without VNNI multiply UINT8 by INT8 in pairs summed into int16 (vpmaddubsw), which
 * saturates once 2 · 255 · |w| passes 32767: with |w| ≤ 63 it cannot. ONNX Runtime's Python
 * quantizer calls this reduce_range. On this project's CPUs (AVX2, no VNNI) full-range weights
 * gave errors of a quarter of the output range on a plain MatMul.
 */
export const REDUCED_RANGE = 63;
export const FULL_RANGE = 127;

/** Symmetric INT8 for weights: zero point 0, the largest magnitude maps to `qmax`. */
export function symmetricInt8(maxAbs: number, qmax = FULL_RANGE): QuantParams {
  return { scale: maxAbs > 0 ? maxAbs / qmax : 1, zeroPoint: 0 };
}

/**
 * Asymmetric UINT8 for activations: the range is widened to include 0 (so zero padding is
 * exact), then mapped onto 0..255.
 */
export function asymmetricUint8(min: number, max: number): QuantParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi - lo <= 0) return { scale: 1, zeroPoint: 0 };
  const scale = (hi - lo) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

export interface QuantizedWeights {
  data: Int8Array;
  /** One scale per channel (length 1 when per-tensor). */
  scales: Float32Array;
}

/**
 * Symmetric INT8 quantization of a row-major tensor onto -qmax..qmax. With `channelAxis` each slice along that
 * axis gets its own scale (per-channel); without it one scale covers the tensor.
 */
export function quantizeSymmetric(
  values: Float32Array,
  dims: readonly number[],
  channelAxis?: number,
  qmax = FULL_RANGE,
): QuantizedWeights {
  const channels = channelAxis === undefined ? 1 : dims[channelAxis]!;
  const inner = channelAxis === undefined ? values.length : dims.slice(channelAxis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => (channelAxis === undefined ? 0 : Math.floor(i / inner) % channels);
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    const a = Math.abs(values[i]!);
    if (a > maxAbs[c]!) maxAbs[c] = a;
  }
  const scales = Float32Array.from(maxAbs, (m) => symmetricInt8(m, qmax).scale);
  const data = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++)
    data[i] = Math.max(-qmax, Math.min(qmax, Math.round(values[i]! / scales[channelOf(i)]!)));
  return { data, scales };
}

/** The value at fraction `q` (0..1) of a sorted copy of `values`. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = Math.min(sorted.length - 1, Math.max(0, q * (sorted.length - 1)));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
