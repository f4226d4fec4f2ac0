import { fastTextToOnnx } from './fasttext-onnx.js';
import type { FastTextModel } from './model-types.js';
import { readModel } from './read-model.js';
import { LABEL_PREFIX } from './tokenizer.js';
import { tokenizerFile } from './tokenizer-file.js';

/** Where a converted model's files go, relative to its model directory. */
export const CONVERTED_FILES = { model: '1/model.onnx', labels: 'labels.json', tokenizer: 'tokenizer.json' } as const;

export interface ConvertedModel {
  /** File bytes by path relative to the model directory (see CONVERTED_FILES). */
  files: Record<string, Uint8Array>;
  /** Label names in output column order, prefix removed ("__label__en" → "en"). */
  labels: string[];
  model: FastTextModel;
}

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value)}\n`);

/** Converts a fastText supervised model file into an ONNX model plus its labels and tokenizer files. */
export function convertFastText(bytes: Uint8Array, name = 'fasttext'): ConvertedModel {
  const model = readModel(bytes);
  const { dictionary } = model;
  const labels = dictionary.entries
    .slice(dictionary.nwords)
    .map((e) => (e.word.startsWith(LABEL_PREFIX) ? e.word.slice(LABEL_PREFIX.length) : e.word));
  return {
    files: {
      [CONVERTED_FILES.model]: fastTextToOnnx(model, name),
      [CONVERTED_FILES.labels]: json(labels),
      [CONVERTED_FILES.tokenizer]: json(tokenizerFile(model)),
    },
    labels,
    model,
  };
}
