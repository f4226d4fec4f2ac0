import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, test } from 'node:test';
import { fastTextHash } from './hash.js';
import { matrixRow } from './matrix-rows.js';
import type { FastTextModel } from './model-types.js';
import { readModel } from './read-model.js';
import { LID_FTZ, referenceModel, type Reference } from './reference-model.js';
import { tokenizerFile, tokenizerFromFile } from './tokenizer-file.js';
import { FastTextTokenizer } from './tokenizer.js';
import { udhrTexts } from './udhr-corpus.js';

let model: FastTextModel;
let tokenizer: FastTextTokenizer;
let ref: Reference;
let sample: string[];
before(async () => {
  model = readModel(new Uint8Array(await readFile(LID_FTZ)));
  tokenizer = FastTextTokenizer.fromModel(model);
  ref = await referenceModel();
  // Every 15th text: a few thousand, across all scripts.
  sample = udhrTexts()
    .filter((_, i) => i % 15 === 0)
    .map((c) => c.text);
});

/** The sentence vector fastText would compute from our rows: float32 sum, times float32(1/n). */
function meanOfRows(rows: number[]): Float32Array {
  const v = new Float32Array(model.args.dim);
  for (const r of rows) {
    const row = matrixRow(model.input, r);
    for (let k = 0; k < v.length; k++) v[k] = v[k]! + row[k]!;
  }
  const scale = Math.fround(1 / rows.length);
  for (let k = 0; k < v.length; k++) v[k] = v[k]! * scale;
  return v;
}

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  const worst = Math.max(...Array.from(a, (x, k) => Math.abs(x - b[k]!)));
  assert.ok(worst <= 1e-6, `${what}: differs by ${worst}`);
}

test('subword rows of every dictionary word equal fastText getSubwords', () => {
  for (const e of model.dictionary.entries.slice(0, model.dictionary.nwords)) {
    assert.deepEqual(tokenizer.subwords(e.word), ref.subwords(e.word), e.word);
  }
});

test('subword rows of out-of-vocabulary words (all scripts) equal fastText getSubwords', () => {
  const words = new Set(sample.flatMap((t) => t.split(' ')));
  let oov = 0;
  for (const w of words) {
    if (tokenizer.wordId(w) < 0) oov++;
    assert.equal(tokenizer.wordId(w), ref.wordId(w), w);
    assert.deepEqual(tokenizer.subwords(w), ref.subwords(w), w);
  }
  assert.ok(oov > 1000, `${oov} out-of-vocabulary words checked`);
});

const EDGE_CASES = [
  'Hello, world!',
  'first line\nsecond line is ignored',
  '\nonly the empty first line counts',
  'CRLF ends\r\nthe line',
  'tab\tvertical\vform\ffeed and nul\u0000separate words',
  'no\u00a0break and ideographic\u3000spaces do not',
  'a literal </s> ends the line early',
  '__label__fr labels (known or not) __label__xx are skipped',
  'emoji 😀 and combining é (e + U+0301)',
  '   ',
  'x',
];

test('rows of a text average to fastText getSentenceVector (edge cases and UDHR sample)', () => {
  for (const text of [...EDGE_CASES, ...sample]) {
    assertClose(meanOfRows(tokenizer.encode(text)), ref.sentenceVector(text), JSON.stringify(text.slice(0, 50)));
  }
});

test('only the first line is read and every line ends with </s> (row 0 here)', () => {
  assert.deepEqual(tokenizer.encode('bonjour\nhello'), tokenizer.encode('bonjour'));
  assert.deepEqual(tokenizer.encode('\nbonjour'), [0]);
  assert.equal(tokenizer.encode('bonjour').at(-1), 0);
  assert.deepEqual(tokenizer.encode('de'), [...ref.subwords('de'), 0]);
});

test('tokenizer.json round-trips to the same tokenisation', () => {
  const file = JSON.parse(JSON.stringify(tokenizerFile(model))) as unknown;
  const { tokenizer: loaded, idOffset, padId } = tokenizerFromFile(file);
  assert.deepEqual([idOffset, padId], [1, 0]);
  assert.equal(loaded.rows, model.input.rows);
  for (const text of [...EDGE_CASES, ...sample.slice(0, 500)])
    assert.deepEqual(loaded.encode(text), tokenizer.encode(text));
  assert.throws(() => tokenizerFromFile({ format: 'fasttext-tokenizer', version: 1 }), /'minn' must be an integer/);
  assert.throws(() => tokenizerFromFile([]), /not a fasttext-tokenizer/);
});

test('word n-grams hash sign-extended 64-bit combinations of word hashes', () => {
  const enc = new TextEncoder();
  const words = ['</s>', 'a', 'b'].map((w) => enc.encode(w));
  const tok = new FastTextTokenizer({ minn: 0, maxn: 0, bucket: 1000, wordNgrams: 2, words });
  const h = (w: string) => BigInt.asUintN(64, BigInt(fastTextHash(enc.encode(w)) | 0));
  const pair = (x: string, y: string) => 3 + Number(BigInt.asUintN(64, h(x) * 116049371n + h(y)) % 1000n);
  assert.deepEqual(tok.encode('a b'), [1, 2, 0, pair('a', 'b'), pair('b', '</s>')]);
  // An unknown word has no row (no char n-grams with maxn 0) but still takes part in word n-grams.
  assert.deepEqual(tok.encode('a zz'), [1, 0, pair('a', 'zz'), pair('zz', '</s>')]);
});
