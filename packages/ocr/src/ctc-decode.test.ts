import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ctcCharacters, ctcGreedyDecode } from './ctc-decode.js';

test('classes are blank, the dictionary lines, then a space', () => {
  assert.deepEqual(ctcCharacters('a\nb\nc'), ['', 'a', 'b', 'c', ' ']);
  // a final newline or Windows line ends add no classes
  assert.deepEqual(ctcCharacters('a\r\nb\r\n'), ['', 'a', 'b', ' ']);
});

/** Probabilities with `p` on the given class at each step and the rest spread evenly. */
function steps(classes: number, picks: Array<[cls: number, p: number]>): Float32Array {
  const out = new Float32Array(picks.length * classes);
  picks.forEach(([cls, p], t) => {
    out.fill((1 - p) / (classes - 1), t * classes, (t + 1) * classes);
    out[t * classes + cls] = p;
  });
  return out;
}

const chars = ctcCharacters('a\nb\nc');

test('repeats merge, blanks drop, a blank between repeats keeps both', () => {
  const probs = steps(5, [[1, 0.9], [1, 0.8], [0, 0.99], [1, 0.7], [2, 0.6], [0, 0.9], [4, 0.5], [3, 0.4]]);
  const r = ctcGreedyDecode(probs, 8, chars);
  assert.equal(r.text, 'aab c');
  // scores of the first step of each kept run: 0.9, 0.7, 0.6, 0.5, 0.4
  assert.ok(Math.abs(r.score - (0.9 + 0.7 + 0.6 + 0.5 + 0.4) / 5) < 1e-6);
});

test('nothing read gives empty text and score 0', () => {
  assert.deepEqual(ctcGreedyDecode(steps(5, [[0, 0.9], [0, 0.8]]), 2, chars), { text: '', score: 0 });
});

test('equal probabilities pick the lowest class, as numpy argmax does', () => {
  const probs = new Float32Array([0.1, 0.45, 0.45, 0, 0]);
  assert.equal(ctcGreedyDecode(probs, 1, chars).text, 'a');
});

test('too few probabilities for the steps is an error', () => {
  assert.throws(() => ctcGreedyDecode(new Float32Array(9), 2, chars), RangeError);
});
