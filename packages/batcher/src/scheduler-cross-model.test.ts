import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from './testing/harness.js';
import { makeModel, request } from './testing/fixtures.js';

const big = makeModel({ name: 'big', maxBatchSize: 2, maxQueueDelayMs: 0 });
const small = makeModel({ name: 'small', maxBatchSize: 8, maxQueueDelayMs: 0, latencyObjectiveMs: 50 });
const computeMsFor = (m: { name: string }) => (m.name === 'big' ? 20 : 1);

test('a small model with a latency objective runs next, ahead of a flooded model that arrived earlier', async () => {
  const h = harness({ computeMsFor });
  const flood = Array.from({ length: 20 }, (_, i) => h.scheduler.submit(request(big, 1, i * 10)));
  await h.advance(5);
  const quick = h.scheduler.submit(request(small, 1, 1000, { enqueuedAt: h.clock.now() }));
  await h.advance(20);
  assert.ok((await quick).ok);
  assert.deepEqual(h.modelsRun().slice(0, 2), ['big', 'small'], 'one batch of the flood, then the small request');
  await h.advance(400);
  for (const o of flood) assert.ok((await o).ok);
});

test('without objectives or deadlines, a model that had no device time lately is owed its share and goes next', async () => {
  const plain = makeModel({ name: 'small', maxBatchSize: 8, maxQueueDelayMs: 0 });
  const h = harness({ computeMsFor });
  const flood = Array.from({ length: 4 }, (_, i) => h.scheduler.submit(request(big, 1, i * 10)));
  await h.advance(5);
  const late = h.scheduler.submit(request(plain, 1, 1000));
  await h.advance(100);
  assert.ok((await late).ok);
  assert.deepEqual(h.modelsRun().slice(0, 3), ['big', 'small', 'big']);
  for (const o of flood) assert.ok((await o).ok);
});

test("a request's own deadline counts too: the earlier one goes first", async () => {
  const a = makeModel({ name: 'a', maxBatchSize: 1, maxQueueDelayMs: 0 });
  const b = makeModel({ name: 'b', maxBatchSize: 1, maxQueueDelayMs: 0 });
  const h = harness();
  const first = h.scheduler.submit(request(a, 1, 0));
  await h.flush();
  const outcomes = [
    h.scheduler.submit(request(a, 1, 10, { deadline: 900 })),
    h.scheduler.submit(request(b, 1, 20, { deadline: 100 })),
  ];
  await h.advance(20);
  for (const o of [first, ...outcomes]) assert.ok((await o).ok);
  assert.deepEqual(h.modelsRun(), ['a', 'b', 'a']);
});

test('priority ranks before deadlines across models', async () => {
  const h = harness({ computeMsFor });
  const first = h.scheduler.submit(request(big, 1, 0));
  await h.flush();
  const urgent = h.scheduler.submit(request(small, 1, 10, { priority: 5 }));
  const important = h.scheduler.submit(request(big, 1, 20, { priority: 1 }));
  await h.advance(60);
  for (const o of [first, urgent, important]) assert.ok((await o).ok);
  assert.deepEqual(h.modelsRun(), ['big', 'big', 'small']);
});

test('a flooded model without an objective keeps its fair share against a flooded model with one', async () => {
  const tight = makeModel({ name: 'tight', maxBatchSize: 1, maxQueueDelayMs: 0, latencyObjectiveMs: 10 });
  const loose = makeModel({ name: 'loose', maxBatchSize: 1, maxQueueDelayMs: 0 });
  const h = harness({ computeMs: 10 });
  // Both always have work waiting; every tight request is due long before any loose one.
  const keepFull = (model: typeof tight, n: number) => {
    for (let i = 0; i < n; i++) void h.scheduler.submit(request(model, 1, i, { enqueuedAt: h.clock.now() }));
  };
  keepFull(loose, 400);
  // Counted once the shares have settled: at first the tight model is light (see lanes.ts).
  let settled = 0;
  for (let t = 0; t < 3000; t += 10) {
    if (t === 500) settled = h.modelsRun().length;
    keepFull(tight, 1);
    await h.advance(10);
  }
  const runs = h.modelsRun().slice(settled);
  const share = runs.filter((m) => m === 'loose').length / runs.length;
  assert.ok(
    share >= 0.4,
    `loose got ${(share * 100).toFixed(0)} % of the runs; its fair share is 50 %, less the 10 % slack`,
  );
  assert.ok(
    runs.filter((m) => m === 'tight').length > runs.length / 2 - runs.length * 0.15,
    'and the tight model still gets its own share',
  );
});
