import type { Tensor } from '@tessera/contract';
import { encodeTexts } from './encode-batch.js';
import { tokenizerFromFile } from './tokenizer-file.js';
import { udhrTexts, type CorpusText } from './udhr-corpus.js';

export { udhrTexts, type CorpusText };

/**
 * Model inputs for calibrating and checking a converted language identifier: every `stride`-th
 * UDHR text (all languages in turn), one text per tensor as a single request sends it.
 */
export function lidCalibrationInputs(tokenizerJson: unknown, count: number): Tensor[] {
  const { tokenizer, idOffset, padId } = tokenizerFromFile(tokenizerJson);
  const texts = udhrTexts();
  const stride = Math.max(1, Math.floor(texts.length / count));
  const picked: string[] = [];
  for (let i = 0; i < texts.length && picked.length < count; i += stride) picked.push(texts[i]!.text);
  return picked.map((t) => encodeTexts(tokenizer, [t], { idOffset, padId }));
}
