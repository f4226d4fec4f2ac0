import type { FastTextMatrix, ProductQuantizer } from './model-types.js';

const KSUB = 256;

/** Offset of centroid `code` of sub-quantizer m (the last sub-quantizer's centroids are packed narrower). */
function centroidOffset(pq: ProductQuantizer, m: number, code: number): number {
  return m === pq.nsubq - 1 ? m * KSUB * pq.dsub + code * pq.lastdsub : (m * KSUB + code) * pq.dsub;
}

/**
 * Row i of a matrix as fastText sees it: for a quantized one, norm x the concatenated
 * centroids its codes pick, each product rounded to float32 as fastText's `addcode` does.
 */
export function matrixRow(matrix: FastTextMatrix, i: number, out = new Float32Array(matrix.cols)): Float32Array {
  if (i < 0 || i >= matrix.rows) throw new RangeError(`row ${i} outside [0, ${matrix.rows})`);
  if (matrix.kind === 'dense') {
    out.set(matrix.data.subarray(i * matrix.cols, (i + 1) * matrix.cols));
    return out;
  }
  const { pq, codes } = matrix;
  let norm = 1;
  if (matrix.qnorm) norm = matrix.npq!.centroids[centroidOffset(matrix.npq!, 0, matrix.normCodes![i]!)]!;
  for (let m = 0; m < pq.nsubq; m++) {
    const at = centroidOffset(pq, m, codes[i * pq.nsubq + m]!);
    const d = m === pq.nsubq - 1 ? pq.lastdsub : pq.dsub;
    for (let n = 0; n < d; n++) out[m * pq.dsub + n] = Math.fround(norm * pq.centroids[at + n]!);
  }
  return out;
}

/** Every row of a matrix, dequantized, as one rows x cols array. */
export function denseRows(matrix: FastTextMatrix): Float32Array {
  if (matrix.kind === 'dense') return matrix.data.slice();
  const out = new Float32Array(matrix.rows * matrix.cols);
  for (let i = 0; i < matrix.rows; i++) matrixRow(matrix, i, out.subarray(i * matrix.cols, (i + 1) * matrix.cols));
  return out;
}
