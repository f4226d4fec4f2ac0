import type { Tensor } from '@tessera/contract';
import { detTensor } from './det-input.js';
import { DEFAULT_OCR_LIMITS } from './limits.js';
import { clsTensor, recTensor } from './line-tensors.js';
import { readImages } from './read-images.js';
import { renderLines, renderPages } from './testing/render-test-set.js';

export type OcrModelName = 'ocr-det' | 'ocr-cls' | 'ocr-rec';

/** Seeds apart from the agreement test's, so calibration never sees the images accuracy is measured on. */
const LINE_SEED = 7301;
const PAGE_SEED = 7302;

async function decode(pngs: Buffer[]) {
  return readImages(
    { images: pngs.map((p) => p.toString('base64')) },
    { ...DEFAULT_OCR_LIMITS, maxImages: pngs.length },
  );
}

/**
 * Model inputs for calibrating the PP-OCR models, prepared exactly as the pipelines prepare
 * them: rendered pages for the detector, rendered text lines for the classifier and the
 * recogniser. Deterministic for a given count.
 */
export async function ocrCalibrationInputs(model: OcrModelName, count: number): Promise<Tensor[]> {
  if (model === 'ocr-det')
    return (await decode(renderPages(count, PAGE_SEED).map((p) => p.png))).map((img) => detTensor(img));
  const lines = await decode(renderLines(count, LINE_SEED).map((l) => l.png));
  return model === 'ocr-cls' ? lines.map((img) => clsTensor(img)) : Promise.all(lines.map((img) => recTensor(img)));
}
