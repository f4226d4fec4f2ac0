import { distance, type Point, type Quad } from './geometry.js';
import { createImage, rotate90CounterClockwise, type RgbImage } from './rgb-image.js';

/** 3x3 homography (row-major, last entry 1) taking each `from` corner to the `to` corner. */
export function perspectiveTransform(from: readonly Point[], to: readonly Point[]): number[] {
  // Eight equations in h0..h7: u = (h0 x + h1 y + h2) / (h6 x + h7 y + 1), v likewise.
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -x * u, -y * u, u]);
    a.push([0, 0, 0, x, y, 1, -x * v, -y * v, v]);
  }
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let r = col + 1; r < 8; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    if (Math.abs(p) < 1e-12) throw new RangeError('degenerate quadrilateral');
    for (let r = 0; r < 8; r++) {
      if (r === col) continue;
      const f = a[r]![col]! / p;
      if (f !== 0) for (let c = col; c < 9; c++) a[r]![c]! -= f * a[col]![c]!;
    }
  }
  return [...a.map((row, i) => row[8]! / row[i]!), 1];
}

// OpenCV's bicubic kernel (A = -0.75) at fractions quantised to 1/32, as its remap tables are.
const A = -0.75;
function cubicWeights(t: number): [number, number, number, number] {
  const w0 = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  const w1 = ((A + 2) * t - (A + 3)) * t * t + 1;
  const w2 = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  return [w0, w1, w2, 1 - w0 - w1 - w2];
}
const TABLE = Array.from({ length: 32 }, (_, i) => cubicWeights(i / 32));

/**
 * cv2.warpPerspective with INTER_CUBIC and BORDER_REPLICATE: each output pixel samples the
 * source at `inverse` applied to its coordinates.
 */
export function warpPerspective(img: RgbImage, inverse: readonly number[], width: number, height: number): RgbImage {
  const out = createImage(width, height);
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = inverse as [number, number, number, number, number, number, number, number, number];
  const clampX = (v: number) => (v < 0 ? 0 : v >= img.width ? img.width - 1 : v);
  const clampY = (v: number) => (v < 0 ? 0 : v >= img.height ? img.height - 1 : v);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const w = m6 * x + m7 * y + m8;
      const scale = w ? 32 / w : 0;
      const fx = Math.round((m0 * x + m1 * y + m2) * scale);
      const fy = Math.round((m3 * x + m4 * y + m5) * scale);
      const sx = Math.floor(fx / 32);
      const sy = Math.floor(fy / 32);
      const wx = TABLE[fx - sx * 32]!;
      const wy = TABLE[fy - sy * 32]!;
      const d = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let j = 0; j < 4; j++) {
          const row = clampY(sy - 1 + j) * img.width;
          let acc = 0;
          for (let i = 0; i < 4; i++) acc += wx[i]! * img.data[(row + clampX(sx - 1 + i)) * 3 + c]!;
          sum += wy[j]! * acc;
        }
        const v = Math.round(sum);
        out.data[d + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/**
 * PaddleOCR's get_rotate_crop_image: the box straightened to a rectangle as wide and high as
 * its longer opposite sides, turned a quarter counter-clockwise when it is at least 1.5 times
 * higher than wide (vertical text).
 */
export function cropQuad(img: RgbImage, box: Quad): RgbImage {
  const width = Math.trunc(Math.max(distance(box[0], box[1]), distance(box[2], box[3])));
  const height = Math.trunc(Math.max(distance(box[0], box[3]), distance(box[1], box[2])));
  if (width < 1 || height < 1) throw new RangeError(`box too small to crop (${width}x${height})`);
  const target: Point[] = [[0, 0], [width, 0], [width, height], [0, height]];
  const crop = warpPerspective(img, perspectiveTransform(target, box), width, height);
  return height / width >= 1.5 ? rotate90CounterClockwise(crop) : crop;
}
