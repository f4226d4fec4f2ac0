import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ctcCharacters, ctcDecode } from './ctc-decode.js';

test('classes are blank, the dictionary lines, then a space', () => {
  assert.deepEqual(ctcCharacters('a\nb\nc'), ['', 'a', 'b', 'c', ' ']);
  // a final newline or Windows line ends add no classes
  assert.deepEqual(ctcCharacters('a\r\nb\r\n'), ['', 'a', 'b', ' ']);
});

const chars = ctcCharacters('a\nb\nc');
const ids = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

test('repeats merge, blanks drop, a blank between repeats keeps both', () => {
  const scores = Float32Array.from([0.9, 0.8, 0.99, 0.7, 0.6, 0.9, 0.5, 0.4]);
  const r = ctcDecode(ids(1, 1, 0, 1, 2, 0, 4, 3), scores, 8, chars);
  assert.equal(r.text, 'aab c');
  // the mean of the first step of each kept run, summed in order in double precision
  const kept = [scores[0]!, scores[3]!, scores[4]!, scores[6]!, scores[7]!];
  assert.equal(r.score, kept.reduce((a, b) => a + b, 0) / kept.length);
});

test('nothing read gives empty text and score 0', () => {
  assert.deepEqual(ctcDecode(ids(0, 0), Float32Array.from([0.9, 0.8]), 2, chars), { text: '', score: 0 });
});

test('only the given steps are read; class ids outside the dictionary are an error', () => {
  assert.equal(ctcDecode(ids(1, 2, 3), Float32Array.from([1, 1, 1]), 2, chars).text, 'ab');
  assert.throws(() => ctcDecode(ids(1), Float32Array.from([1]), 2, chars), RangeError);
  assert.throws(
    () => ctcDecode(ids(5), Float32Array.from([1]), 1, chars),
    /class 5 at step 0 is outside the 5 classes/,
  );
});
