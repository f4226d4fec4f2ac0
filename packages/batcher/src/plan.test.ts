import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBatch } from './plan.js';

const q = (...entries: [number, string?][]) => entries.map(([remaining, key]) => ({ remaining, key: key ?? 'k' }));

test('batches count items, not requests', () => {
  assert.deepEqual(planBatch(q([3], [3], [3]), 8), [
    { index: 0, count: 3 },
    { index: 1, count: 3 },
  ]);
});

test('the batch closes at exactly cap items', () => {
  assert.deepEqual(planBatch(q([4], [4], [1]), 8), [
    { index: 0, count: 4 },
    { index: 1, count: 4 },
  ]);
});

test('a request that does not fit the room waits; a smaller later one may join', () => {
  assert.deepEqual(planBatch(q([5], [4], [3]), 8), [
    { index: 0, count: 5 },
    { index: 2, count: 3 },
  ]);
});

test('incompatible requests keep their place', () => {
  assert.deepEqual(planBatch(q([1, 'a'], [1, 'b'], [1, 'a']), 8), [
    { index: 0, count: 1 },
    { index: 2, count: 1 },
  ]);
});

test('a seed larger than the cap is sliced to the cap and fills the batch alone', () => {
  assert.deepEqual(planBatch(q([20], [1]), 8), [{ index: 0, count: 8 }]);
});

test('empty queue plans nothing; cap below one still takes one item', () => {
  assert.deepEqual(planBatch([], 8), []);
  assert.deepEqual(planBatch(q([3]), 0), [{ index: 0, count: 1 }]);
});
