import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paddingAllowed } from './padding.js';
import { planBatch } from './plan.js';
import { harness } from './testing/harness.js';
import { makeModel, request, tensor, values } from './testing/fixtures.js';

const model = makeModel({
  maxBatchSize: 8,
  maxQueueDelayMs: 0,
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1], pad: [{ axis: 0, value: 0 }] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1], crop: [{ axis: 0, input: 'x', inputAxis: 0, scale: 1 }] }],
});
const ofLength = (n: number, base = 1) => ({
  ...request(model, 1, 0),
  inputs: [
    tensor(
      'x',
      'FP32',
      [1, n],
      Array.from({ length: n }, (_, i) => base + i),
    ),
  ],
});
const shaped = (length: number, count = 1) => ({ shape: { dims: [[length]], elementBytes: [4] }, count });

test('padding rule: lengths within the ratio, padding bytes within the budget', () => {
  const policy = { maxBytes: 1000, maxRatio: 4 };
  assert.equal(paddingAllowed([shaped(10)], { maxBytes: 0, maxRatio: 1 }), true, 'one shape alone never pads');
  assert.equal(paddingAllowed([shaped(10), shaped(40)], policy), true);
  assert.equal(paddingAllowed([shaped(10), shaped(41)], policy), false, 'over four times as long');
  // 8 rows of 10 padded to 40: 8 x 30 x 4 = 960 bytes of padding; 9 rows: 1080.
  assert.equal(paddingAllowed([shaped(10, 8), shaped(40)], policy), true);
  assert.equal(paddingAllowed([shaped(10, 9), shaped(40)], policy), false, 'over the byte budget');
});

test('the planner leaves a request out of a batch it would pad too much, and it keeps its place', () => {
  const entry = (length: number) => ({ remaining: 1, key: 'k', rows: { dims: [[length]], elementBytes: [4] } });
  assert.deepEqual(planBatch([entry(5), entry(5000), entry(7), entry(12)], 8, { maxBytes: 1 << 20, maxRatio: 4 }), [
    { index: 0, count: 1 },
    { index: 2, count: 1 },
    { index: 3, count: 1 },
  ]);
  assert.deepEqual(planBatch([entry(5000), entry(5), entry(4000)], 8, { maxBytes: 1 << 20, maxRatio: 4 }), [
    { index: 0, count: 1 },
    { index: 2, count: 1 },
  ]);
});

test('a tiny request is not padded to a huge one: they run in different batches, each answered right', async () => {
  const h = harness();
  const tiny = h.scheduler.submit(ofLength(3));
  const huge = h.scheduler.submit(ofLength(5000));
  const small = h.scheduler.submit(ofLength(6, 10));
  await h.advance(20);
  assert.deepEqual(
    h.runner.calls.map((c) => c.inputs[0]!.shape),
    [
      [2, 6],
      [1, 5000],
    ],
    'the short ones together, the long one alone',
  );
  const [t, g, s] = await Promise.all([tiny, huge, small]);
  assert.ok(t.ok && g.ok && s.ok);
  assert.deepEqual(values(t.outputs[0]), [2, 4, 6]);
  assert.deepEqual(values(s.outputs[0]), [20, 22, 24, 26, 28, 30]);
  assert.equal(g.outputs[0]!.shape[1], 5000);
});

test('the padding budget splits a batch that the ratio alone would allow', async () => {
  // Seven rows of 100 padded to 400 would allocate 7 x 300 x 4 = 8400 bytes of padding.
  const h = harness({ padding: { maxBytes: 4096, maxRatio: 4 } });
  const long = h.scheduler.submit(ofLength(400));
  const shorts = Array.from({ length: 7 }, () => h.scheduler.submit(ofLength(100)));
  await h.advance(30);
  const batches = h.runner.calls.map((c) => c.inputs[0]!.shape);
  assert.ok(batches.length >= 2, `more than one batch: ${JSON.stringify(batches)}`);
  for (const shape of batches) {
    const [rowsIn, width] = shape as [number, number];
    assert.ok(width !== 400 || (rowsIn - 1) * 300 * 4 <= 4096, `padding within the budget: ${JSON.stringify(shape)}`);
  }
  for (const out of await Promise.all([long, ...shorts])) assert.ok(out.ok);
});
