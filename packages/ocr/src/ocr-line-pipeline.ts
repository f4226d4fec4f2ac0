import type { Infer, Pipeline } from '@tessera/contract';
import { characterSource } from './characters.js';
import type { Recognized } from './ctc-decode.js';
import type { DecodeGate } from './decode-gate.js';
import { resolveLimits, type OcrLimits } from './limits.js';
import { REC } from './ocr-models.js';
import { readImages } from './read-images.js';
import { recognizeLines } from './recognize-lines.js';

/**
 * 'ocr-line': each image is one line of text (already cropped); returns its text and the mean
 * probability of the characters read. The character dictionary is read from the recogniser's
 * directory in `repoDir` on first use.
 */
export function createOcrLinePipeline(repoDir: string, limits: Partial<OcrLimits> = {}, gate?: DecodeGate): Pipeline {
  const bounds = resolveLimits(limits);
  const characters = characterSource(repoDir);
  return {
    name: 'ocr-line',
    input: 'images',
    models: [REC.model],
    async predict(body: Record<string, unknown>, infer: Infer): Promise<Recognized[]> {
      const images = await readImages(body, bounds, gate);
      return recognizeLines(images, infer, await characters());
    },
  };
}
