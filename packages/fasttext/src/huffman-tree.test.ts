import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { buildHuffmanTree } from './huffman-tree.js';
import { matrixRow } from './matrix-rows.js';
import { readModel } from './read-model.js';
import { LID_FTZ, referenceModel } from './reference-model.js';
import { FastTextTokenizer } from './tokenizer.js';

test('a small tree worked by hand: ties go to the inner node, the first taken is the left child', () => {
  // Leaves 0..3 (counts 5, 3, 2, 1); inner nodes 4 = {3, 2}, 5 = {4, 1} (4 weighs 3 and wins
  // the tie with leaf 1), 6 = {0, 5}. Inner node k owns output row k - 4.
  const t = buildHuffmanTree([5, 3, 2, 1]);
  assert.deepEqual(t.left.slice(4), [3, 4, 0]);
  assert.deepEqual(t.right.slice(4), [2, 1, 5]);
  assert.deepEqual(t.paths, [[2], [1, 2], [0, 1, 2], [0, 1, 2]]);
  assert.deepEqual(t.codes, [[false], [true, true], [true, false, true], [false, false, true]]);
  assert.throws(() => buildHuffmanTree([1]), /at least 2 labels/);
});

test("lid.176's tree is a full binary tree: every path ends at the root, Kraft sum is 1", async () => {
  const model = readModel(new Uint8Array(await readFile(LID_FTZ)));
  const counts = model.dictionary.entries.slice(model.dictionary.nwords).map((e) => e.count);
  const t = buildHuffmanTree(counts);
  assert.equal(t.paths.length, 176);
  assert.ok(t.paths.every((p) => p.at(-1) === 174 && p.every((n) => n >= 0 && n < 175)));
  assert.equal(
    t.paths.reduce((s, p) => s + 2 ** -p.length, 0),
    1,
  );
  // Frequent labels sit higher: en (the most frequent) is no deeper than the rarest label.
  assert.ok(t.paths[0]!.length <= t.paths[175]!.length);
});

test('probabilities walked down the rebuilt tree equal fastText predict for every label', async () => {
  const model = readModel(new Uint8Array(await readFile(LID_FTZ)));
  const labels = model.dictionary.entries.slice(model.dictionary.nwords).map((e) => e.word.slice('__label__'.length));
  const t = buildHuffmanTree(model.dictionary.entries.slice(model.dictionary.nwords).map((e) => e.count));
  const tokenizer = FastTextTokenizer.fromModel(model);
  const ref = await referenceModel();
  for (const text of ['Bonjour tout le monde', 'Всеки човек има право на живот', 'Hello', '人人生而自由']) {
    const rows = tokenizer.encode(text);
    const hidden = new Float64Array(16);
    for (const r of rows) matrixRow(model.input, r).forEach((x, k) => (hidden[k] = hidden[k]! + x / rows.length));
    const right = Array.from({ length: 175 }, (_, node) => {
      const w = matrixRow(model.output, node);
      return 1 / (1 + Math.exp(-w.reduce((s, x, k) => s + x * hidden[k]!, 0)));
    });
    const ours = t.paths.map((path, label) =>
      Math.exp(
        path.reduce((s, node, d) => s + Math.log((t.codes[label]![d] ? right[node]! : 1 - right[node]!) + 1e-5), 0),
      ),
    );
    // fastText leaves out labels whose probability falls under its 1e-5 floor.
    const reference = ref.predict(text, -1);
    assert.ok(reference.length > 0);
    for (const { label, prob } of reference)
      assert.ok(Math.abs(ours[labels.indexOf(label)]! - prob) < 1e-5, `${text}: ${label}`);
  }
});
