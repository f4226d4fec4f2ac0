import { createImage, type RgbImage } from './rgb-image.js';
import { roundHalfEven } from './rounding.js';

// OpenCV's INTER_LINEAR on 8-bit images works in fixed point with 11-bit weights; the models
// were tuned on its output, so the same arithmetic is reproduced here rather than float bilinear.
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

interface Taps {
  lo: Int32Array;
  hi: Int32Array;
  wlo: Int32Array;
  whi: Int32Array;
}

/**
 * Source indices and weights per output position. Along x OpenCV clamps position and weight at
 * the edges; along y it keeps the weights and only clamps the rows read (`clampWeights` false).
 */
function taps(src: number, dst: number, clampWeights: boolean): Taps {
  const scale = 1 / (dst / src); // as OpenCV derives it, to the last bit
  const t: Taps = {
    lo: new Int32Array(dst),
    hi: new Int32Array(dst),
    wlo: new Int32Array(dst),
    whi: new Int32Array(dst),
  };
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampWeights && s < 0) {
      s = 0;
      f = 0;
    }
    if (clampWeights && s >= src - 1) {
      s = src - 1;
      f = 0;
    }
    t.lo[d] = Math.min(Math.max(s, 0), src - 1);
    t.hi[d] = Math.min(Math.max(s + 1, 0), src - 1);
    t.wlo[d] = roundHalfEven(Math.fround(Math.fround(1 - f) * COEF_SCALE));
    t.whi[d] = roundHalfEven(Math.fround(f * COEF_SCALE));
  }
  return t;
}

/** Exact halving in both directions: OpenCV switches INTER_LINEAR to a 2x2 box average here. */
function halve(img: RgbImage): RgbImage {
  const out = createImage(img.width / 2, img.height / 2);
  const stride = img.width * 3;
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      const s = 2 * y * stride + 2 * x * 3;
      const d = (y * out.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const sum = img.data[s + c]! + img.data[s + 3 + c]! + img.data[s + stride + c]! + img.data[s + stride + 3 + c]!;
        out.data[d + c] = (sum + 2) >> 2;
      }
    }
  }
  return out;
}

/** cv2.resize(img, (width, height)) with the default INTER_LINEAR interpolation. */
export function resizeLinear(img: RgbImage, width: number, height: number): RgbImage {
  if (width < 1 || height < 1) throw new RangeError(`cannot resize to ${width}x${height}`);
  if (width === img.width && height === img.height) return img;
  if (img.width === 2 * width && img.height === 2 * height) return halve(img);
  const xt = taps(img.width, width, true);
  const yt = taps(img.height, height, false);
  const out = createImage(width, height);
  const rowLen = width * 3;
  // Horizontal pass for each source row is cached: consecutive output rows share source rows.
  const rows = new Map<number, Int32Array>();
  const horizontal = (sy: number): Int32Array => {
    let row = rows.get(sy);
    if (row) return row;
    row = new Int32Array(rowLen);
    const base = sy * img.width * 3;
    for (let x = 0; x < width; x++) {
      const a = base + xt.lo[x]! * 3;
      const b = base + xt.hi[x]! * 3;
      const wa = xt.wlo[x]!;
      const wb = xt.whi[x]!;
      for (let c = 0; c < 3; c++) row[x * 3 + c] = img.data[a + c]! * wa + img.data[b + c]! * wb;
    }
    if (rows.size > 4) rows.delete(rows.keys().next().value!);
    rows.set(sy, row);
    return row;
  };
  for (let y = 0; y < height; y++) {
    const r0 = horizontal(yt.lo[y]!);
    const r1 = horizontal(yt.hi[y]!);
    const b0 = yt.wlo[y]!;
    const b1 = yt.whi[y]!;
    const d = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      // OpenCV's VResizeLinear rounding: two 16-bit products, then +2 >> 2.
      const v = (((b0 * (r0[i]! >> 4)) >> 16) + ((b1 * (r1[i]! >> 4)) >> 16) + 2) >> 2;
      out.data[d + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}
