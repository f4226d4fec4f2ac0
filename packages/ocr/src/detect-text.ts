import { ServiceError, type Infer } from '@tessera/contract';
import { boxesFromMap } from './db-postprocess.js';
import { detTensor } from './det-input.js';
import type { Quad } from './geometry.js';
import { modelOutput } from './model-output.js';
import { DET } from './ocr-models.js';
import type { RgbImage } from './rgb-image.js';
import { sortBoxes } from './sort-boxes.js';

/**
 * Text boxes of a page in PaddleOCR's reading order, corners clockwise from top-left, in page
 * pixels (see boxesFromMap).
 */
export async function detectText(page: RgbImage, infer: Infer): Promise<Quad[]> {
  const input = detTensor(page, DET.input);
  const answer = await infer({ model: DET.model, inputs: [input], outputs: [DET.output] });
  const { data, shape } = modelOutput(answer, DET.model, DET.output, 4);
  const [height, width] = input.shape.slice(2) as [number, number];
  if (shape[2] !== height || shape[3] !== width) {
    throw new ServiceError(
      'internal',
      `model '${DET.model}' returned a ${shape[2]}x${shape[3]} map for a ${height}x${width} input`,
    );
  }
  return sortBoxes(boxesFromMap(data, width, height, page.width, page.height));
}
