import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceError, type Infer, type Pipeline, type Tensor } from '@tessera/contract';
import { CONVERTED_FILES } from './convert.js';
import { idsTensor } from './encode-batch.js';
import { tokenizerFromFile } from './tokenizer-file.js';

export const LID_MODEL = 'lid176';

export interface LidPipelineOptions {
  /** Most texts one request may carry (keep it within the model's max_items_per_request). */
  maxTexts: number;
  /** Most characters (code points) in one text. */
  maxTextLength: number;
  /** Most model ids one text may produce; unlimited when absent. */
  maxTokens?: number;
}

export interface LanguageScore {
  label: string;
  score: number;
}

export interface LidResult extends LanguageScore {
  top: LanguageScore[];
}

async function readJson(dir: string, file: string): Promise<unknown> {
  const path = join(dir, file);
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

const LONE_SURROGATE = /\p{Cs}/u;

function codePointsOver(text: string, limit: number): number | undefined {
  if (text.length <= limit) return undefined;
  let n = 0;
  for (const _codePoint of text) n++;
  return n > limit ? n : undefined;
}

function checkTexts(value: unknown, opts: LidPipelineOptions): string[] {
  if (!Array.isArray(value)) throw new ServiceError('invalid_input', "'texts' must be an array of strings");
  if (value.length === 0) throw new ServiceError('invalid_input', "'texts' is empty; send at least one text");
  if (value.length > opts.maxTexts)
    throw new ServiceError('invalid_input', `'texts' has ${value.length} texts; at most ${opts.maxTexts} per request`);
  value.forEach((t: unknown, i) => {
    if (typeof t !== 'string')
      throw new ServiceError(
        'invalid_input',
        `texts[${i}] must be a string, got ${t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t}`,
      );
    if (t.length === 0) throw new ServiceError('invalid_input', `texts[${i}] is empty`);
    // A lone surrogate has no UTF-8 form, and fastText's WebAssembly build encodes it differently.
    if (LONE_SURROGATE.test(t))
      throw new ServiceError('invalid_input', `texts[${i}] is not well-formed Unicode (it has a lone surrogate)`);
    const n = codePointsOver(t, opts.maxTextLength);
    if (n !== undefined)
      throw new ServiceError('invalid_input', `texts[${i}] has ${n} characters; at most ${opts.maxTextLength}`);
  });
  return value as string[];
}

function checkK(value: unknown, labels: number): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > labels) {
    throw new ServiceError('invalid_input', `'k' must be an integer from 1 to ${labels}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function probsOf(outputs: Tensor[], texts: number, labels: number): Float32Array {
  const probs = outputs.find((t) => t.name === 'probs');
  if (
    !probs ||
    probs.datatype !== 'FP32' ||
    probs.shape.length !== 2 ||
    probs.shape[0] !== texts ||
    probs.shape[1] !== labels
  ) {
    throw new ServiceError('internal', `model '${LID_MODEL}' answered without probs FP32 [${texts}, ${labels}]`);
  }
  return probs.data as Float32Array;
}

/**
 * Language identification with fastText's lid.176 model converted to ONNX. Each text is read
 * the way fastText's predict reads it: case is kept, only the first line counts (predict stops
 * at the first newline), words split on ASCII whitespace. Scores are clamped to 1: fastText's
 * hierarchical softmax adds 1e-5 per tree level, which can lift a near-certain label a hair above it.
 */
export async function createLidPipeline(modelDir: string, opts: LidPipelineOptions): Promise<Pipeline> {
  const labels = await readJson(modelDir, CONVERTED_FILES.labels);
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string')) {
    throw new Error(`${join(modelDir, CONVERTED_FILES.labels)} must be a non-empty array of label names`);
  }
  const { tokenizer, idOffset, padId } = tokenizerFromFile(await readJson(modelDir, CONVERTED_FILES.tokenizer));
  const names = labels as string[];

  return {
    name: LID_MODEL,
    input: 'texts',
    models: [LID_MODEL],
    async predict(body: Record<string, unknown>, infer: Infer): Promise<LidResult[]> {
      const texts = checkTexts(body.texts, opts);
      const k = checkK(body.k, names.length);
      const rows = texts.map((t, i) => {
        const ids = tokenizer.encode(t);
        if (opts.maxTokens !== undefined && ids.length > opts.maxTokens) {
          throw new ServiceError('invalid_input', `texts[${i}] makes ${ids.length} tokens; at most ${opts.maxTokens}`);
        }
        return ids;
      });
      // All texts of a request travel as one call: one queue round trip, batched together.
      const answer = await infer({
        model: LID_MODEL,
        inputs: [idsTensor(rows, { idOffset, padId })],
        outputs: ['probs'],
      });
      const probs = probsOf(answer.outputs, texts.length, names.length);
      return texts.map((_, i) => {
        const row = probs.subarray(i * names.length, (i + 1) * names.length);
        const order = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b);
        const top = order.slice(0, k).map((j) => ({ label: names[j]!, score: Math.min(1, row[j]!) }));
        return { ...top[0]!, top };
      });
    },
  };
}
