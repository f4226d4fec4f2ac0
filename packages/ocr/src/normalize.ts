import type { RgbImage } from './rgb-image.js';

export type Triple = readonly [number, number, number];

/**
 * Channel-planar float data, channels in B, G, R order: PaddleOCR reads images with OpenCV
 * (BGR) and its models were trained that way; `mean` and `std` apply to the planes in that
 * order too, as PaddleOCR applies them (@gutenye/ocr lays the planes out the same way). Columns
 * from `img.width` up to `width` stay 0, the value PaddleOCR pads classifier inputs with after
 * normalising.
 */
export function normalizeBgr(img: RgbImage, mean: Triple, std: Triple, width = img.width): Float32Array {
  const { height } = img;
  const plane = height * width;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const src = 2 - c; // RGB interleaved -> plane 0 is blue
    const m = mean[c]!;
    const s = std[c]!;
    const base = c * plane;
    for (let y = 0; y < height; y++) {
      const row = y * img.width * 3;
      const dst = base + y * width;
      for (let x = 0; x < img.width; x++) out[dst + x] = (img.data[row + x * 3 + src]! / 255 - m) / s;
    }
  }
  return out;
}

/** Direction classifier, as PaddleOCR feeds it: (x / 255 - 0.5) / 0.5. */
export const HALF: Triple = [0.5, 0.5, 0.5];
/**
 * Detection and recognition, as @gutenye/ocr feeds them: x / 255 (mean 0, std 1), bit for bit
 * the float32 of x / 255. PaddleOCR uses ImageNet statistics for detection and (x / 255 - 0.5)
 * / 0.5 for recognition; the models read slightly differently that way (on the test set 17 of
 * 240 lines differed, mostly in spaces), and agreement with the reference is what is asked here.
 */
export const ZERO: Triple = [0, 0, 0];
export const ONE: Triple = [1, 1, 1];
