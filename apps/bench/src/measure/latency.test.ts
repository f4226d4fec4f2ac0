import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, requireAnswers } from './latency.js';

test('nearest-rank percentiles', () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(xs, 50), 5);
  assert.equal(percentile(xs, 99), 10);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('a step in which no request was answered is an error, not 0 items/s', () => {
  assert.throws(
    () => requireAnswers({ completed: 0, errors: 0, timeouts: 0 }, 'full lid176 c=64'),
    /full lid176 c=64: no request was answered \(0 errors, 0 timeouts\)/,
  );
  assert.doesNotThrow(() => requireAnswers({ completed: 1, errors: 5, timeouts: 5 }, 'full lid176 c=64'));
});
