import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrivalRate } from './arrival-rate.js';

test('no prediction before two arrivals', () => {
  const rate = new ArrivalRate();
  assert.equal(rate.expectsBefore(1e9), false);
  rate.observe(100);
  assert.equal(rate.expectsBefore(1e9), false);
  rate.observe(102);
  assert.equal(rate.meanGapMs, 2);
  assert.equal(rate.expectsBefore(105), true);
  assert.equal(rate.expectsBefore(104), false);
});

test('a long quiet spell stops predicting, and a few quick arrivals restore it', () => {
  const rate = new ArrivalRate(0.3, 100);
  for (let t = 0; t <= 10; t++) rate.observe(t);
  rate.observe(10_000);
  assert.equal(rate.expectsBefore(10_000 + 10), false);
  let t = 10_000;
  let quick = 0;
  while (!rate.expectsBefore(t + 10)) {
    t += 1;
    rate.observe(t);
    quick++;
  }
  assert.ok(quick <= 8, `took ${quick} arrivals`);
});
