import type { Tensor } from '@tessera/contract';
import { HALF, normalizeBgr } from './normalize.js';
import { resizeSmooth } from './resize-smooth.js';
import type { RgbImage } from './rgb-image.js';

/** Input height of the recogniser and the direction classifier. */
export const LINE_HEIGHT = 48;
/**
 * Widest recogniser input: PaddleX (PaddleOCR 3) squeezes lines wider than this instead of
 * keeping their aspect ratio, which bounds the work one very long line can cause.
 */
export const REC_MAX_WIDTH = 3200;
/** The direction classifier's fixed input width; narrower crops are padded. */
export const CLS_WIDTH = 192;

/** Width at height 48 with the aspect ratio kept, rounded up, as PaddleOCR computes it. */
export function lineWidth(width: number, height: number, max: number): number {
  return Math.max(1, Math.min(max, Math.ceil(LINE_HEIGHT * (width / height))));
}

/** One line crop as recogniser input [1, 3, 48, W]: its own width, since the worker pads batches. */
export async function recTensor(img: RgbImage, name = 'x'): Promise<Tensor> {
  const width = lineWidth(img.width, img.height, REC_MAX_WIDTH);
  const data = normalizeBgr(await resizeSmooth(img, width, LINE_HEIGHT), HALF, HALF);
  return { name, datatype: 'FP32', shape: [1, 3, LINE_HEIGHT, width], data };
}

/** One line crop as classifier input [1, 3, 48, 192], zero-padded on the right as PaddleOCR does. */
export async function clsTensor(img: RgbImage, name = 'x'): Promise<Tensor> {
  const width = lineWidth(img.width, img.height, CLS_WIDTH);
  const data = normalizeBgr(await resizeSmooth(img, width, LINE_HEIGHT), HALF, HALF, CLS_WIDTH);
  return { name, datatype: 'FP32', shape: [1, 3, LINE_HEIGHT, CLS_WIDTH], data };
}
