import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchCostModel } from './batch-cost-model.js';

test('the fit recovers fixed and per-item cost from batches of several sizes', () => {
  const m = new BatchCostModel();
  for (let i = 0; i < 100; i++) m.observe(1 + (i % 64), 2 + 0.05 * (1 + (i % 64)));
  const f = m.fit()!;
  assert.ok(Math.abs(f.fixedMs - 2) < 1e-6 && Math.abs(f.perItemMs - 0.05) < 1e-6, JSON.stringify(f));
});

test('a long run of one size keeps the fit it had: batches of 1 are not scaled up as if nothing were fixed', () => {
  const m = new BatchCostModel();
  for (let i = 0; i < 100; i++) m.observe(1 + (i % 64), 2 + 0.05 * (1 + (i % 64)));
  for (let i = 0; i < 1000; i++) m.observe(1, 2.05);
  // 2 ms fixed + 64 x 0.05 ms, not 64 x 2.05 ms.
  assert.ok(Math.abs(m.predict(64)! - 5.2) < 0.01, `predicted ${m.predict(64)} ms for 64 items`);
});

test('with only one size ever seen, the prediction scales it up (the safe side)', () => {
  const m = new BatchCostModel();
  for (let i = 0; i < 10; i++) m.observe(1, 2);
  assert.equal(m.fit(), undefined);
  assert.equal(m.predict(8), 16);
});
