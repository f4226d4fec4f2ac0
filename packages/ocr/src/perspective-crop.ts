import type { Point, Quad } from './geometry.js';
import { roundHalfEven } from './rounding.js';
import { createImage, type RgbImage } from './rgb-image.js';

// The crops are cut as OpenCV (4.x, as @gutenye/ocr runs it through opencv.js) cuts them, down
// to its arithmetic: the homography solved by LU in double precision, inverted by cofactors,
// source positions quantised to 1/32 pixel, and bicubic weights in 15-bit fixed point.
const f = Math.fround;
const INTER_BITS = 5;
const INTER_TAB_SIZE = 1 << INTER_BITS;
const COEF_BITS = 15;
const COEF_SCALE = 1 << COEF_BITS;

/** cv::getPerspectiveTransform(src, dst) (DECOMP_LU) for float32 corners: row-major 3x3 taking src to dst. */
export function getPerspectiveTransform(src: readonly Point[], dst: readonly Point[]): number[] {
  const a: number[][] = Array.from({ length: 8 }, () => new Array<number>(8).fill(0));
  const b = new Array<number>(8).fill(0);
  for (let i = 0; i < 4; i++) {
    const sx = f(src[i]![0]);
    const sy = f(src[i]![1]);
    const dx = f(dst[i]![0]);
    const dy = f(dst[i]![1]);
    a[i]![0] = a[i + 4]![3] = sx;
    a[i]![1] = a[i + 4]![4] = sy;
    a[i]![2] = a[i + 4]![5] = 1;
    // float products in C++: rounded to float32 before they are stored as doubles
    a[i]![6] = f(-sx * dx);
    a[i]![7] = f(-sy * dx);
    a[i + 4]![6] = f(-sx * dy);
    a[i + 4]![7] = f(-sy * dy);
    b[i] = dx;
    b[i + 4] = dy;
  }
  // hal::LU64f: partial pivoting, then back substitution.
  const m = 8;
  for (let i = 0; i < m; i++) {
    let k = i;
    for (let j = i + 1; j < m; j++) if (Math.abs(a[j]![i]!) > Math.abs(a[k]![i]!)) k = j;
    if (Math.abs(a[k]![i]!) < Number.EPSILON * 100) throw new RangeError('degenerate quadrilateral');
    if (k !== i) {
      [a[i], a[k]] = [a[k]!, a[i]!];
      [b[i], b[k]] = [b[k]!, b[i]!];
    }
    const d = -1 / a[i]![i]!;
    for (let j = i + 1; j < m; j++) {
      const alpha = a[j]![i]! * d;
      for (let c = i + 1; c < m; c++) a[j]![c]! += alpha * a[i]![c]!;
      b[j]! += alpha * b[i]!;
    }
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let c = i + 1; c < m; c++) s -= a[i]![c]! * b[c]!;
    b[i] = s / a[i]![i]!;
  }
  return [...b, 1];
}

/** cv::invert of a 3x3 double matrix (DECOMP_LU): cofactors over the determinant. */
export function invert3x3(s: readonly number[]): number[] {
  const S = (y: number, x: number) => s[y * 3 + x]!;
  let d =
    S(0, 0) * (S(1, 1) * S(2, 2) - S(1, 2) * S(2, 1)) -
    S(0, 1) * (S(1, 0) * S(2, 2) - S(1, 2) * S(2, 0)) +
    S(0, 2) * (S(1, 0) * S(2, 1) - S(1, 1) * S(2, 0));
  if (d === 0) return new Array<number>(9).fill(0);
  d = 1 / d;
  return [
    (S(1, 1) * S(2, 2) - S(1, 2) * S(2, 1)) * d,
    (S(0, 2) * S(2, 1) - S(0, 1) * S(2, 2)) * d,
    (S(0, 1) * S(1, 2) - S(0, 2) * S(1, 1)) * d,
    (S(1, 2) * S(2, 0) - S(1, 0) * S(2, 2)) * d,
    (S(0, 0) * S(2, 2) - S(0, 2) * S(2, 0)) * d,
    (S(0, 2) * S(1, 0) - S(0, 0) * S(1, 2)) * d,
    (S(1, 0) * S(2, 1) - S(1, 1) * S(2, 0)) * d,
    (S(0, 1) * S(2, 0) - S(0, 0) * S(2, 1)) * d,
    (S(0, 0) * S(1, 1) - S(0, 1) * S(1, 0)) * d,
  ];
}

/** OpenCV's interpolateCubic (A = -0.75) in float32. */
function cubic(x: number): [number, number, number, number] {
  const A = -0.75;
  const x1 = f(x + 1);
  const c0 = f(f(f(f(f(f(A * x1) - f(5 * A)) * x1) + f(8 * A)) * x1) - f(4 * A));
  const c1 = f(f(f(f(f(f(A + 2) * x) - f(A + 3)) * x) * x) + 1);
  const x2 = f(1 - x);
  const c2 = f(f(f(f(f(f(A + 2) * x2) - f(A + 3)) * x2) * x2) + 1);
  const c3 = f(f(f(1 - c0) - c1) - c2);
  return [c0, c1, c2, c3];
}

/** OpenCV's fixed-point bicubic table: 32 x 32 fractions, 16 weights each, summing to 2^15. */
const BICUBIC: Int16Array = (() => {
  const tab1 = Array.from({ length: INTER_TAB_SIZE }, (_, i) => cubic(f(i * f(1 / INTER_TAB_SIZE))));
  const table = new Int16Array(INTER_TAB_SIZE * INTER_TAB_SIZE * 16);
  for (let i = 0; i < INTER_TAB_SIZE; i++) {
    for (let j = 0; j < INTER_TAB_SIZE; j++) {
      const t = table.subarray((i * INTER_TAB_SIZE + j) * 16, (i * INTER_TAB_SIZE + j + 1) * 16);
      let sum = 0;
      for (let k1 = 0; k1 < 4; k1++) {
        for (let k2 = 0; k2 < 4; k2++) {
          // saturate_cast<short>: 1.0 * 2^15 becomes 32767, the fix-up below restores the sum
          const v = Math.min(32767, Math.max(-32768, roundHalfEven(f(f(tab1[i]![k1]! * tab1[j]![k2]!) * COEF_SCALE))));
          t[k1 * 4 + k2] = v;
          sum += v;
        }
      }
      if (sum !== COEF_SCALE) {
        // the rounding error goes to the largest (or smallest) of the four central weights
        const diff = sum - COEF_SCALE;
        let [mk1, mk2, Mk1, Mk2] = [2, 2, 2, 2];
        for (let k1 = 2; k1 < 4; k1++) {
          for (let k2 = 2; k2 < 4; k2++) {
            if (t[k1 * 4 + k2]! < t[mk1 * 4 + mk2]!) [mk1, mk2] = [k1, k2];
            else if (t[k1 * 4 + k2]! > t[Mk1 * 4 + Mk2]!) [Mk1, Mk2] = [k1, k2];
          }
        }
        if (diff < 0) t[Mk1 * 4 + Mk2] = t[Mk1 * 4 + Mk2]! - diff;
        else t[mk1 * 4 + mk2] = t[mk1 * 4 + mk2]! - diff;
      }
    }
  }
  return table;
})();

/** int saturate_cast of a double as OpenCV's cvRound: to nearest, halves to even. */
const toInt = (v: number) => roundHalfEven(Math.max(-2147483648, Math.min(2147483647, v)));

/**
 * cv::warpPerspective(src, dst, m, size, INTER_CUBIC, BORDER_REPLICATE) for 8-bit RGB, `m`
 * taking source to destination: positions computed per 16-row, up-to-64-column block as
 * OpenCV's WarpPerspectiveInvoker computes them, then OpenCV's fixed-point bicubic remap.
 */
export function warpPerspective(img: RgbImage, m: readonly number[], width: number, height: number): RgbImage {
  const out = createImage(width, height);
  const M = invert3x3(m);
  let bh0 = Math.min(16, height);
  const bw0 = Math.min(Math.trunc(1024 / bh0), width);
  bh0 = Math.min(Math.trunc(1024 / bw0), height);
  const last = [img.width - 1, img.height - 1];
  const clampX = (v: number) => (v < 0 ? 0 : v > last[0]! ? last[0]! : v);
  const clampY = (v: number) => (v < 0 ? 0 : v > last[1]! ? last[1]! : v);
  const src = img.data;
  const stride = img.width * 3;
  for (let y = 0; y < height; y += bh0) {
    for (let x = 0; x < width; x += bw0) {
      const bw = Math.min(bw0, width - x);
      const bh = Math.min(bh0, height - y);
      for (let y1 = 0; y1 < bh; y1++) {
        const X0 = M[0]! * x + M[1]! * (y + y1) + M[2]!;
        const Y0 = M[3]! * x + M[4]! * (y + y1) + M[5]!;
        const W0 = M[6]! * x + M[7]! * (y + y1) + M[8]!;
        for (let x1 = 0; x1 < bw; x1++) {
          let W = W0 + M[6]! * x1;
          W = W ? INTER_TAB_SIZE / W : 0;
          const X = toInt((X0 + M[0]! * x1) * W);
          const Y = toInt((Y0 + M[3]! * x1) * W);
          // source position saturated to int16, as OpenCV stores it
          const sx = Math.max(-32768, Math.min(32767, X >> INTER_BITS)) - 1;
          const sy = Math.max(-32768, Math.min(32767, Y >> INTER_BITS)) - 1;
          const w = ((Y & (INTER_TAB_SIZE - 1)) * INTER_TAB_SIZE + (X & (INTER_TAB_SIZE - 1))) * 16;
          const cols = [clampX(sx) * 3, clampX(sx + 1) * 3, clampX(sx + 2) * 3, clampX(sx + 3) * 3];
          const d = ((y + y1) * width + x + x1) * 3;
          for (let c = 0; c < 3; c++) {
            let sum = 0;
            for (let i = 0; i < 4; i++) {
              const row = clampY(sy + i) * stride + c;
              for (let j = 0; j < 4; j++) sum += src[row + cols[j]!]! * BICUBIC[w + i * 4 + j]!;
            }
            const v = (sum + (1 << (COEF_BITS - 1))) >> COEF_BITS;
            out.data[d + c] = v < 0 ? 0 : v > 255 ? 255 : v;
          }
        }
      }
    }
  }
  return out;
}

const norm = (p: Point, q: Point) => Math.sqrt((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2);

/**
 * A line crop turned a quarter counter-clockwise as @gutenye/ocr turns tall crops: OpenCV's
 * getRotationMatrix2D about (w/2, w/2) and warpAffine into h x w. That lands one pixel off
 * numpy's rot90 (PaddleOCR): output row r shows input column w - r, so the first row repeats
 * the last column (border replicated) and the first column is not seen. Kept for agreement.
 */
export function rotateTall(img: RgbImage): RgbImage {
  const { width: w, height: h } = img;
  const out = createImage(h, w);
  for (let r = 0; r < w; r++) {
    const col = Math.min(w - r, w - 1);
    for (let c = 0; c < h; c++) {
      const s = (c * w + col) * 3;
      const d = (r * h + c) * 3;
      out.data[d] = img.data[s]!;
      out.data[d + 1] = img.data[s + 1]!;
      out.data[d + 2] = img.data[s + 2]!;
    }
  }
  return out;
}

/**
 * get_rotate_crop_image as @gutenye/ocr runs it: the box (corners top-left, top-right,
 * bottom-right, bottom-left) straightened to a rectangle as wide and high as its longer
 * opposite sides (truncated), then turned to lie flat when it is at least 1.5 times higher
 * than wide (see rotateTall).
 */
export function cropQuad(img: RgbImage, box: Quad): RgbImage {
  const width = Math.trunc(Math.max(norm(box[0], box[1]), norm(box[2], box[3])));
  const height = Math.trunc(Math.max(norm(box[0], box[3]), norm(box[1], box[2])));
  if (width < 1 || height < 1) throw new RangeError(`box too small to crop (${width}x${height})`);
  const target: Point[] = [
    [0, 0],
    [width, 0],
    [width, height],
    [0, height],
  ];
  const crop = warpPerspective(img, getPerspectiveTransform(box, target), width, height);
  return height / width >= 1.5 ? rotateTall(crop) : crop;
}
