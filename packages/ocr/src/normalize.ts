import type { RgbImage } from './rgb-image.js';

export type Triple = readonly [number, number, number];

/**
 * Channel-planar float data, channels in B, G, R order: PaddleOCR reads images with OpenCV
 * (BGR) and its models were trained that way; `mean` and `std` apply to the planes in that
 * order too, as PaddleOCR applies them. Columns from `img.width` up to `width` stay 0, the
 * value PaddleOCR pads recognition and classifier inputs with after normalising.
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

/** Recognition and direction classifier: (x / 255 - 0.5) / 0.5. */
export const HALF: Triple = [0.5, 0.5, 0.5];
/** Detection: ImageNet statistics, applied to B, G, R planes as PaddleOCR does. */
export const IMAGENET_MEAN: Triple = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Triple = [0.229, 0.224, 0.225];
