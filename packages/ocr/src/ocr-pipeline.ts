import { ServiceError, type Infer, type Pipeline } from '@tessera/contract';
import { characterSource } from './characters.js';
import { upsideDown } from './classify-direction.js';
import type { DecodeGate } from './decode-gate.js';
import { detectText } from './detect-text.js';
import type { Quad } from './geometry.js';
import { resolveLimits, type OcrLimits } from './limits.js';
import { CLS, DET, REC } from './ocr-models.js';
import { cropQuad } from './perspective-crop.js';
import { checkImages } from './read-images.js';
import { recognizeLines } from './recognize-lines.js';
import { rotate180, type RgbImage } from './rgb-image.js';

/** PaddleOCR's drop_score, and @gutenye/ocr's: lines read with less confidence are left out. */
export const DROP_SCORE = 0.5;

export interface OcrLine {
  text: string;
  score: number;
  /** Corners in page pixels: top-left, top-right, bottom-right, bottom-left. */
  box: [[number, number], [number, number], [number, number], [number, number]];
}

async function readPage(
  page: RgbImage,
  index: number,
  infer: Infer,
  characters: readonly string[],
  maxBoxes: number,
): Promise<OcrLine[]> {
  const boxes: Quad[] = await detectText(page, infer);
  if (boxes.length === 0) return [];
  // Each box costs two inference calls: a page of confetti must not cost thousands.
  if (boxes.length > maxBoxes)
    throw new ServiceError(
      'invalid_input',
      `images[${index}]: ${boxes.length} text boxes found, over the limit of ${maxBoxes} per page`,
    );
  const crops = boxes.map((box) => cropQuad(page, box));
  const flipped = await upsideDown(crops, infer);
  const lines = await recognizeLines(
    crops.map((crop, i) => (flipped[i] ? rotate180(crop) : crop)),
    infer,
    characters,
  );
  const out: OcrLine[] = [];
  lines.forEach(({ text, score }, i) => {
    if (score < DROP_SCORE) return;
    // In the pixels of the image as sent, also when it was read shrunk.
    const k = 1 / (page.scale ?? 1);
    const [a, b, c, d] = boxes[i]!;
    out.push({
      text,
      score,
      box: [
        [a[0] * k, a[1] * k],
        [b[0] * k, b[1] * k],
        [c[0] * k, c[1] * k],
        [d[0] * k, d[1] * k],
      ],
    });
  });
  return out;
}

/**
 * 'ocr': PP-OCRv4 on whole pages, one after the other. Detection, direction classification and
 * recognition each call their own model, with one call per page or line so that the worker can
 * batch every stage across requests (pages of equal size, lines of equal width: neither is padded). Returns, per image, the lines read in reading order, one per detected box:
 * unlike @gutenye/ocr, boxes on the same row are not merged into one line.
 */
export function createOcrPipeline(repoDir: string, limits: Partial<OcrLimits> = {}, gate?: DecodeGate): Pipeline {
  const bounds = resolveLimits(limits);
  const characters = characterSource(repoDir);
  return {
    name: 'ocr',
    input: 'images',
    models: [DET.model, CLS.model, REC.model],
    async predict(body: Record<string, unknown>, infer: Infer): Promise<OcrLine[][]> {
      const pages = checkImages(body, bounds, gate);
      const chars = await characters();
      // One page at a time: its pixels, crops and tensors are all a request holds (the worker
      // still batches its calls with other requests').
      const out: OcrLine[][] = [];
      for (const [i, decode] of pages.entries())
        out.push(await readPage(await decode(), i, infer, chars, bounds.maxBoxesPerPage));
      return out;
    },
  };
}
