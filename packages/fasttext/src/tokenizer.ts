import { FNV_OFFSET, fastTextHash, fnvStep } from './hash.js';
import type { FastTextModel } from './model-types.js';

/** What tokenisation needs from a model: the word list, the n-gram settings and the prune index. */
export interface TokenizerSpec {
  minn: number;
  maxn: number;
  bucket: number;
  wordNgrams: number;
  /** Word entries (UTF-8 bytes) in id order; labels are not needed (they are recognised by prefix). */
  words: Uint8Array[];
  /**
   * For a pruned model, kept n-gram bucket → its row among the n-gram rows; n-grams in no
   * kept bucket are dropped. Undefined when the model was never pruned (every bucket has a row).
   */
  pruneIndex?: Map<number, number>;
}

/** The label prefix fastText's models are trained with; its loader does not store it. */
export const LABEL_PREFIX = '__label__';
const EOS = new TextEncoder().encode('</s>');
const LABEL = new TextEncoder().encode(LABEL_PREFIX);
const NEWLINE = 0x0a;
const utf8 = new TextEncoder();

/** fastText's word separators (readWord): ASCII space, \n, \r, \t, \v, \f and NUL, nothing else. */
function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x0b || b === 0x0c || b === 0x00;
}

const isContinuation = (b: number) => (b & 0xc0) === 0x80;

function sameBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

function startsWith(b: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[start + i] !== prefix[i]) return false;
  return true;
}

/**
 * Turns text into the input-matrix rows fastText's `predict` averages: the text is read as
 * one line (fastText's predict stops at the first newline, and ends every line with the
 * end-of-sentence token "</s>"), split on ASCII whitespace only, and each word contributes its
 * dictionary row (when known) plus the rows of its character n-grams.
 */
export class FastTextTokenizer {
  private readonly table: Int32Array;
  private readonly subwordCache = new Map<number, Int32Array>();
  readonly nwords: number;
  /** Number of input-matrix rows ids can point at. */
  readonly rows: number;

  constructor(private readonly spec: TokenizerSpec) {
    this.nwords = spec.words.length;
    this.rows = this.nwords + (spec.pruneIndex ? spec.pruneIndex.size : spec.bucket);
    // Same open addressing as fastText's word2int (size / 0.7, linear probing); any exact map would do.
    this.table = new Int32Array(Math.max(1, Math.ceil(this.nwords / 0.7))).fill(-1);
    spec.words.forEach((w, id) => {
      this.table[this.slot(w, 0, w.length, fastTextHash(w))] = id;
    });
  }

  static fromModel(model: FastTextModel): FastTextTokenizer {
    const { args, dictionary } = model;
    return new FastTextTokenizer({
      minn: args.minn,
      maxn: args.maxn,
      bucket: args.bucket,
      wordNgrams: args.wordNgrams,
      words: dictionary.entries.slice(0, dictionary.nwords).map((e) => e.bytes),
      pruneIndex: dictionary.pruneIdxSize >= 0 ? dictionary.pruneIndex : undefined,
    });
  }

  private slot(b: Uint8Array, start: number, end: number, h: number): number {
    const size = this.table.length;
    let id = h % size;
    while (this.table[id] !== -1 && !sameBytes(this.spec.words[this.table[id]!]!, b, start, end)) id = (id + 1) % size;
    return id;
  }

  /** Dictionary id of a word, or -1. */
  wordId(word: string): number {
    const b = utf8.encode(word);
    return this.table[this.slot(b, 0, b.length, fastTextHash(b))]!;
  }

  /** Rows of a single word: its own row when known, then its n-grams' (fastText getSubwords, for words; labels are not input). */
  subwords(word: string): number[] {
    const b = utf8.encode(word);
    const out: number[] = [];
    const wid = this.wordId(word);
    if (wid >= 0) out.push(...this.knownSubwords(wid));
    else if (!sameBytes(EOS, b, 0, b.length)) this.charNgrams(b, 0, b.length, out);
    return out;
  }

  /** Input rows for a text, exactly as fastText's predict (and getSentenceVector) collects them. */
  encode(text: string): number[] {
    const b = utf8.encode(text);
    const out: number[] = [];
    const wordHashes: number[] = [];
    let i = 0;
    for (;;) {
      while (i < b.length && isSpace(b[i]!) && b[i] !== NEWLINE) i++;
      // The end of the text counts as a newline: predict appends one before reading.
      const atEol = i >= b.length || b[i] === NEWLINE;
      const start = i;
      if (!atEol) while (i < b.length && !isSpace(b[i]!)) i++;
      const [tb, ts, te] = atEol ? [EOS, 0, EOS.length] : [b, start, i];
      const h = fastTextHash(tb, ts, te);
      const wid = this.table[this.slot(tb, ts, te, h)]!;
      const eos = sameBytes(EOS, tb, ts, te);
      // Labels in the text (known or not) are not input; fastText recognises them by prefix.
      if (wid >= 0 || !startsWith(tb, ts, te, LABEL)) {
        if (wid >= 0) out.push(...this.knownSubwords(wid));
        else if (!eos) this.charNgrams(tb, ts, te, out);
        wordHashes.push(h | 0);
      }
      if (eos) break;
    }
    this.wordNgrams(wordHashes, out);
    return out;
  }

  private knownSubwords(wid: number): Int32Array {
    let rows = this.subwordCache.get(wid);
    if (!rows) {
      const w = this.spec.words[wid]!;
      const list = [wid];
      if (!sameBytes(EOS, w, 0, w.length)) this.charNgrams(w, 0, w.length, list);
      rows = Int32Array.from(list);
      this.subwordCache.set(wid, rows);
    }
    return rows;
  }

  /** Char n-grams of "<word>" of minn..maxn code points (UTF-8 sequences are never split). */
  private charNgrams(src: Uint8Array, start: number, end: number, out: number[]): void {
    const { minn, maxn, bucket } = this.spec;
    const w = new Uint8Array(end - start + 2);
    w[0] = 0x3c; // '<'
    w.set(src.subarray(start, end), 1);
    w[w.length - 1] = 0x3e; // '>'
    for (let i = 0; i < w.length; i++) {
      if (isContinuation(w[i]!)) continue;
      let h = FNV_OFFSET;
      for (let j = i, n = 1; j < w.length && n <= maxn; n++) {
        h = fnvStep(h, w[j++]!);
        while (j < w.length && isContinuation(w[j]!)) h = fnvStep(h, w[j++]!);
        // A lone "<" or ">" is not an n-gram.
        if (n >= minn && !(n === 1 && (i === 0 || j === w.length))) this.pushBucket(h % bucket, out);
      }
    }
  }

  /** Word n-grams (wordNgrams > 1) hash 64-bit combinations of the word hashes. */
  private wordNgrams(hashes: number[], out: number[]): void {
    const n = this.spec.wordNgrams;
    if (n <= 1) return;
    const bucket = BigInt(this.spec.bucket);
    // fastText keeps word hashes as int32 and widens them to uint64 with sign extension.
    const wide = hashes.map((x) => BigInt.asUintN(64, BigInt(x)));
    for (let i = 0; i < wide.length; i++) {
      let h = wide[i]!;
      for (let j = i + 1; j < wide.length && j < i + n; j++) {
        h = BigInt.asUintN(64, h * 116049371n + wide[j]!);
        this.pushBucket(Number(h % bucket), out);
      }
    }
  }

  private pushBucket(id: number, out: number[]): void {
    const prune = this.spec.pruneIndex;
    if (prune) {
      const kept = prune.get(id);
      if (kept === undefined) return;
      id = kept;
    }
    out.push(this.nwords + id);
  }
}
