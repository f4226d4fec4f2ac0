import { ID_OFFSET, PAD_ID } from './fasttext-onnx.js';
import type { FastTextModel } from './model-types.js';
import { FastTextTokenizer } from './tokenizer.js';

/**
 * tokenizer.json beside a converted model: what the API needs to turn text into model ids
 * without reading (or shipping) the quantized fastText file.
 */
export interface TokenizerFile {
  format: 'fasttext-tokenizer';
  version: 1;
  minn: number;
  maxn: number;
  bucket: number;
  wordNgrams: number;
  /** Dictionary words in id order. */
  words: string[];
  /** Pruned models only: the kept n-gram bucket of each n-gram row, in row order. */
  ngramBuckets?: number[];
  /** Model ids are fastText rows + idOffset; short rows are padded with padId. */
  idOffset: number;
  padId: number;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextEncoder();

export function tokenizerFile(model: FastTextModel): TokenizerFile {
  const { args, dictionary } = model;
  const words = dictionary.entries.slice(0, dictionary.nwords).map((e, id) => {
    // JSON holds text; a word that is not valid UTF-8 could not round-trip through it.
    try {
      return strictUtf8.decode(e.bytes);
    } catch {
      throw new RangeError(`dictionary word ${id} is not valid UTF-8`);
    }
  });
  let ngramBuckets: number[] | undefined;
  if (dictionary.pruneIdxSize >= 0) {
    ngramBuckets = new Array<number>(dictionary.pruneIndex.size).fill(-1);
    for (const [bucket, row] of dictionary.pruneIndex) {
      if (row < 0 || row >= ngramBuckets.length || ngramBuckets[row] !== -1)
        throw new RangeError(`prune index maps two buckets (or none) to n-gram row ${row}`);
      ngramBuckets[row] = bucket;
    }
  }
  return {
    format: 'fasttext-tokenizer',
    version: 1,
    minn: args.minn,
    maxn: args.maxn,
    bucket: args.bucket,
    wordNgrams: args.wordNgrams,
    words,
    ...(ngramBuckets ? { ngramBuckets } : {}),
    idOffset: ID_OFFSET,
    padId: PAD_ID,
  };
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Checks a parsed tokenizer.json and builds its tokenizer; throws naming the first problem. */
export function tokenizerFromFile(raw: unknown): { tokenizer: FastTextTokenizer; idOffset: number; padId: number } {
  const f = raw as Partial<TokenizerFile> | null;
  if (typeof f !== 'object' || f === null || f.format !== 'fasttext-tokenizer' || f.version !== 1) {
    throw new TypeError('not a fasttext-tokenizer version 1 file');
  }
  for (const key of ['minn', 'maxn', 'bucket', 'wordNgrams', 'idOffset', 'padId'] as const) {
    if (!isInt(f[key])) throw new TypeError(`tokenizer file: '${key}' must be an integer`);
  }
  if (!Array.isArray(f.words) || !f.words.every((w) => typeof w === 'string'))
    throw new TypeError("tokenizer file: 'words' must be an array of strings");
  let pruneIndex: Map<number, number> | undefined;
  if (f.ngramBuckets !== undefined) {
    if (!Array.isArray(f.ngramBuckets) || !f.ngramBuckets.every(isInt))
      throw new TypeError("tokenizer file: 'ngramBuckets' must be an array of integers");
    pruneIndex = new Map(f.ngramBuckets.map((bucket, row) => [bucket, row]));
  }
  const tokenizer = new FastTextTokenizer({
    minn: f.minn!,
    maxn: f.maxn!,
    bucket: f.bucket!,
    wordNgrams: f.wordNgrams!,
    words: f.words.map((w) => utf8.encode(w)),
    pruneIndex,
  });
  return { tokenizer, idOffset: f.idOffset!, padId: f.padId! };
}
