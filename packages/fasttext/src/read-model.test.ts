import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, test } from 'node:test';
import { FastTextFormatError } from './byte-cursor.js';
import { matrixRow } from './matrix-rows.js';
import type { FastTextModel } from './model-types.js';
import { readModel } from './read-model.js';
import { LID_FTZ, referenceModel } from './reference-model.js';

let bytes: Uint8Array;
let model: FastTextModel;
before(async () => {
  bytes = new Uint8Array(await readFile(LID_FTZ));
  model = readModel(bytes);
});

test('lid.176.ftz header and args', () => {
  assert.equal(model.version, 12);
  const { args } = model;
  assert.deepEqual(
    {
      dim: args.dim,
      minn: args.minn,
      maxn: args.maxn,
      bucket: args.bucket,
      wordNgrams: args.wordNgrams,
      loss: args.loss,
      model: args.model,
      qout: args.qout,
    },
    { dim: 16, minn: 2, maxn: 4, bucket: 2_000_000, wordNgrams: 1, loss: 'hs', model: 'sup', qout: false },
  );
});

test('lid.176.ftz dictionary: words, 176 labels by falling count, a pruned n-gram index', () => {
  const d = model.dictionary;
  assert.equal(d.nlabels, 176);
  assert.equal(d.entries.length, d.nwords + d.nlabels);
  assert.equal(d.entries[0]!.word, '</s>');
  assert.ok(d.entries.slice(0, d.nwords).every((e) => e.type === 'word'));
  const labels = d.entries.slice(d.nwords);
  assert.ok(labels.every((e) => e.type === 'label' && e.word.startsWith('__label__')));
  assert.equal(labels[0]!.word, '__label__en');
  assert.ok(labels.every((e, i) => i === 0 || e.count <= labels[i - 1]!.count));
  assert.ok(d.pruneIdxSize > 0 && d.pruneIndex.size === d.pruneIdxSize);
  // Kept buckets are < bucket and their rows are exactly 0..size-1.
  assert.ok([...d.pruneIndex.keys()].every((k) => k >= 0 && k < model.args.bucket));
  assert.deepEqual(
    [...d.pruneIndex.values()].sort((a, b) => a - b),
    Array.from({ length: d.pruneIdxSize }, (_, i) => i),
  );
});

test('lid.176.ftz matrices: product-quantized input with quantized norms, dense output', () => {
  const { input, output, dictionary } = model;
  assert.equal(input.kind, 'quant');
  assert.ok(input.kind === 'quant' && input.qnorm && input.normCodes && input.npq);
  assert.equal(input.rows, dictionary.nwords + dictionary.pruneIdxSize);
  assert.equal(input.cols, 16);
  assert.deepEqual(
    { ...input.pq, centroids: input.pq.centroids.length },
    { dim: 16, nsubq: 8, dsub: 2, lastdsub: 2, centroids: 16 * 256 },
  );
  assert.deepEqual({ dim: input.npq.dim, nsubq: input.npq.nsubq }, { dim: 1, nsubq: 1 });
  assert.equal(output.kind, 'dense');
  assert.deepEqual([output.rows, output.cols], [176, 16]);
});

test('dequantized input rows equal fastText getInputVector bit for bit', async () => {
  const ref = await referenceModel();
  for (let row = 0; row < model.input.rows; row += 499) {
    assert.deepEqual(matrixRow(model.input, row), ref.inputVector(row), `row ${row}`);
  }
  assert.deepEqual(matrixRow(model.input, model.input.rows - 1), ref.inputVector(model.input.rows - 1));
  assert.throws(() => matrixRow(model.input, model.input.rows), RangeError);
});

test('damaged files are refused with what is wrong', () => {
  const wrongMagic = bytes.slice();
  wrongMagic[0] = wrongMagic[0]! ^ 1;
  assert.throws(
    () => readModel(wrongMagic),
    (e: unknown) => e instanceof FastTextFormatError && /not a fastText model/.test(e.message),
  );
  const newer = bytes.slice();
  new DataView(newer.buffer).setInt32(4, 13, true);
  assert.throws(() => readModel(newer), /file version 13 is newer than 12/);
  assert.throws(() => readModel(bytes.subarray(0, bytes.length - 3)), /truncated file: output matrix values/);
  const longer = new Uint8Array(bytes.length + 2);
  longer.set(bytes);
  assert.throws(() => readModel(longer), /2 unexpected bytes/);
});
