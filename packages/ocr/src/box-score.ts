import { fillPolygon } from './fill-polygon.js';
import type { Point, Quad } from './geometry.js';

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/**
 * PaddleOCR's box_score_fast: mean probability inside the box, over the box's bounding
 * rectangle with the box filled as a mask (corners truncated to integers, as numpy's astype).
 */
export function boxScore(prob: Float32Array, width: number, height: number, box: Quad): number {
  const xs = box.map((p) => p[0]);
  const ys = box.map((p) => p[1]);
  const xmin = clamp(Math.floor(Math.min(...xs)), 0, width - 1);
  const xmax = clamp(Math.ceil(Math.max(...xs)), 0, width - 1);
  const ymin = clamp(Math.floor(Math.min(...ys)), 0, height - 1);
  const ymax = clamp(Math.ceil(Math.max(...ys)), 0, height - 1);
  const w = xmax - xmin + 1;
  const h = ymax - ymin + 1;
  // float32 corners minus integer offsets, truncated as numpy's astype(int32)
  const mask = fillPolygon(
    box.map(([x, y]): Point => [Math.trunc(Math.fround(x - xmin)), Math.trunc(Math.fround(y - ymin))]),
    w,
    h,
  );
  let sum = 0;
  let count = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      sum += prob[(ymin + y) * width + xmin + x]!;
      count++;
    }
  }
  return count === 0 ? 0 : sum / count;
}
