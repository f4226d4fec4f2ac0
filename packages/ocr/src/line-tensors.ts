import type { Tensor } from '@tessera/contract';
import { HALF, normalizeBgr, ONE, ZERO } from './normalize.js';
import { resizeLinear } from './resize.js';
import { resizeToHeight } from './resize-smooth.js';
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

/**
 * One line image as recogniser input [1, 3, 48, W], as @gutenye/ocr prepares it: scaled to
 * height 48 by sharp (see resizeToHeight), B, G, R planes scaled to [0, 1] (see ZERO), at its
 * own width: no padding, which would change what the recogniser reads (see the model zoo's
 * ocr-rec).
 */
export async function recTensor(img: RgbImage, name = 'x'): Promise<Tensor> {
  const line = await resizeToHeight(img, LINE_HEIGHT, REC_MAX_WIDTH);
  const data = normalizeBgr(line, ZERO, ONE);
  return { name, datatype: 'FP32', shape: [1, 3, LINE_HEIGHT, line.width], data };
}

/**
 * One line crop as classifier input [1, 3, 48, 192], as PaddleOCR prepares it (the reference
 * has no classifier): bilinear resize to ceil(48 * aspect) wide, at most 192, normalised to
 * [-1, 1], zero-padded on the right.
 */
export function clsTensor(img: RgbImage, name = 'x'): Tensor {
  const width = lineWidth(img.width, img.height, CLS_WIDTH);
  const data = normalizeBgr(resizeLinear(img, width, LINE_HEIGHT), HALF, HALF, CLS_WIDTH);
  return { name, datatype: 'FP32', shape: [1, 3, LINE_HEIGHT, CLS_WIDTH], data };
}
