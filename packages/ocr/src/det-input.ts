import type { Tensor } from '@tessera/contract';
import { normalizeBgr, ONE, ZERO } from './normalize.js';
import { resizeLinear } from './resize.js';
import type { RgbImage } from './rgb-image.js';
import { roundHalfEven } from './rounding.js';

/** PaddleOCR's det_limit_side_len with det_limit_type 'max': the long side is cut to 960. */
export const DET_LIMIT_SIDE = 960;

/**
 * PaddleOCR's DetResizeForTest (resize_image_type0): shrink so the long side is at most the
 * limit, then round each side to a multiple of 32 (half to even, as Python), at least 32.
 * A page whose sides are multiples of 32 and at most 960 is not resized at all, which is
 * where this agrees with @gutenye/ocr. For other pages the reference rounds each side up to
 * a multiple of 32 without a limit and letterboxes the page into that size (scaled with
 * Lanczos, black bars), then reports boxes in the letterboxed image's pixels; that is not
 * reproduced: boxes here are always in the page's own pixels.
 */
export function detSize(width: number, height: number, limit = DET_LIMIT_SIDE): { width: number; height: number } {
  let ratio = 1;
  if (Math.max(width, height) > limit) ratio = height > width ? limit / height : limit / width;
  const w = Math.trunc(width * ratio);
  const h = Math.trunc(height * ratio);
  return { width: Math.max(roundHalfEven(w / 32) * 32, 32), height: Math.max(roundHalfEven(h / 32) * 32, 32) };
}

/**
 * A page as detector input [1, 3, H, W]: B, G, R planes scaled to [0, 1] as @gutenye/ocr
 * feeds them (PaddleOCR normalises with ImageNet's mean and deviation instead; see ZERO).
 */
export function detTensor(img: RgbImage, name = 'x'): Tensor {
  const { width, height } = detSize(img.width, img.height);
  const data = normalizeBgr(resizeLinear(img, width, height), ZERO, ONE);
  return { name, datatype: 'FP32', shape: [1, 3, height, width], data };
}
