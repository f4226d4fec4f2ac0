import type { Infer } from '@tessera/contract';
import { clsTensor } from './line-tensors.js';
import { modelOutput } from './model-output.js';
import { CLS } from './ocr-models.js';
import type { RgbImage } from './rgb-image.js';

/** PaddleOCR's cls_thresh: a crop is turned only when the classifier is this sure. */
export const CLS_THRESHOLD = 0.9;

/**
 * For each line crop, whether the classifier reads it as upside down ('180' above the
 * threshold). PaddleOCR's angle classification; @gutenye/ocr has none, so upside-down pages
 * are read here and not there.
 */
export function upsideDown(crops: readonly RgbImage[], infer: Infer): Promise<boolean[]> {
  return Promise.all(
    crops.map(async (crop) => {
      const answer = await infer({ model: CLS.model, inputs: [clsTensor(crop, CLS.input)], outputs: [CLS.output] });
      const { data } = modelOutput(answer, CLS.model, CLS.output, 2);
      const p0 = data[0]!;
      const p180 = data[1]!;
      // argmax picks the first of equal scores, so a tie is '0'
      return p180 > p0 && p180 > CLS_THRESHOLD;
    }),
  );
}
