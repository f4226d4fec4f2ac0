import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from './testing/harness.js';
import { makeModel, request, rows, values } from './testing/fixtures.js';

test('idle device and no recent traffic: a request runs at once, without waiting', async () => {
  const h = harness();
  const model = makeModel({ maxQueueDelayMs: 50 });
  const done = h.scheduler.submit(request(model, 1, 10));
  await h.flush();
  assert.deepEqual(h.runner.sizes, [1]);
  assert.equal(h.clock.now(), 0);
  await h.advance(5);
  const out = await done;
  assert.ok(out.ok);
  assert.deepEqual(values(out.outputs[0]), [20, 22]);
  assert.deepEqual(out.timing, { queueMs: 0, computeMs: 5, batchSize: 1 });
  assert.equal(out.provider, 'fake');
});

test('the batch closes as soon as it holds cap items', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 4, maxQueueDelayMs: 1000 });
  for (let i = 0; i < 5; i++) void h.scheduler.submit(request(model, 1, i * 10));
  await h.flush();
  assert.deepEqual(h.runner.sizes, [4]);
  assert.equal(h.scheduler.pending(), 1);
});

test('items are counted, not requests: 3 + 1 fills a cap of 4, 3 + 3 does not', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 4, maxQueueDelayMs: 0 });
  void h.scheduler.submit(request(model, 3, 0));
  void h.scheduler.submit(request(model, 1, 100));
  void h.scheduler.submit(request(model, 3, 200));
  void h.scheduler.submit(request(model, 3, 300));
  await h.advance(20);
  assert.deepEqual(h.runner.sizes, [4, 3, 3]);
});

test('with arrivals expected, a partial batch is held until maxQueueDelayMs after its oldest item', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 8, maxQueueDelayMs: 10 });
  const first = h.scheduler.submit(request(model, 1, 0));
  void h.scheduler.submit(request(model, 1, 10));
  await h.advance(5);
  void h.scheduler.submit(request(model, 2, 20));
  await h.advance(4);
  assert.deepEqual(h.runner.sizes, []);
  assert.equal(h.scheduler.pending(), 4);
  await h.advance(1);
  assert.deepEqual(h.runner.sizes, [4]);
  await h.advance(5);
  const out = await first;
  assert.ok(out.ok);
  assert.deepEqual(out.timing, { queueMs: 10, computeMs: 5, batchSize: 4 });
  assert.equal(h.clock.pendingTimers, 0);
});

test('a held batch that reaches the cap goes at once and its timer is cleared', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 4, maxQueueDelayMs: 100 });
  void h.scheduler.submit(request(model, 1, 0));
  void h.scheduler.submit(request(model, 1, 0));
  await h.advance(3);
  assert.deepEqual(h.runner.sizes, []);
  void h.scheduler.submit(request(model, 2, 0));
  await h.flush();
  assert.deepEqual(h.runner.sizes, [4]);
  await h.advance(5);
  assert.equal(h.clock.pendingTimers, 0);
});

test('maxQueueDelayMs 0 never holds; same-tick requests still share a batch', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 8, maxQueueDelayMs: 0 });
  void h.scheduler.submit(request(model, 1, 0));
  void h.scheduler.submit(request(model, 1, 10));
  await h.flush();
  assert.deepEqual(h.runner.sizes, [2]);
});

test('requests arriving during a run form the next batch, which goes when the device frees', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 8, maxQueueDelayMs: 50 });
  const a = h.scheduler.submit(request(model, 1, 0));
  await h.flush();
  assert.deepEqual(h.runner.sizes, [1]);
  const later = [];
  for (let t = 1; t <= 3; t++) {
    await h.advance(1);
    later.push(h.scheduler.submit(request(model, 1, t * 10, { enqueuedAt: t })));
  }
  await h.advance(2);
  assert.equal(h.clock.now(), 5);
  assert.deepEqual(h.runner.sizes, [1, 3]);
  assert.ok((await a).ok);
  await h.advance(5);
  const outs = await Promise.all(later);
  outs.forEach((out, i) => {
    assert.ok(out.ok);
    assert.deepEqual(
      values(out.outputs[0]),
      rows((i + 1) * 10, 1).map((v) => v * 2),
    );
    assert.equal(out.timing.queueMs, 5 - (i + 1));
    assert.equal(out.timing.batchSize, 3);
  });
  assert.equal(h.runner.maxActive, 1);
});

test('a late arrival that breaks the rhythm releases the held batch early', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 8, maxQueueDelayMs: 10 });
  void h.scheduler.submit(request(model, 1, 0));
  void h.scheduler.submit(request(model, 1, 0));
  await h.advance(9);
  assert.deepEqual(h.runner.sizes, []);
  // Gaps 0 then 9: the average no longer expects another request before t = 10.
  void h.scheduler.submit(request(model, 1, 0));
  await h.flush();
  assert.deepEqual(h.runner.sizes, [3]);
  assert.equal(h.clock.now(), 9);
});

test('after a quiet spell a lone request runs without waiting even though it used to be busy', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 64, maxQueueDelayMs: 10 });
  for (let i = 0; i < 6; i++) {
    void h.scheduler.submit(request(model, 1, 0));
    await h.advance(1);
  }
  await h.advance(1000);
  const before = h.runner.calls.length;
  void h.scheduler.submit(request(model, 1, 0));
  await h.flush();
  assert.equal(h.runner.calls.length, before + 1);
});

test('one run per batch and never two runs at once', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 4, maxQueueDelayMs: 2 });
  const all = [];
  for (let i = 0; i < 40; i++) {
    all.push(h.scheduler.submit(request(model, 1 + (i % 3), i)));
    if (i % 4 === 0) await h.advance(1);
  }
  await h.advance(200);
  const outs = await Promise.all(all);
  assert.ok(outs.every((o) => o.ok));
  assert.equal(h.runner.maxActive, 1);
  assert.equal(h.runner.calls.length, h.seen.batches.length);
  assert.equal(
    h.runner.sizes.reduce((a, b) => a + b, 0),
    79,
  );
  assert.ok(h.runner.sizes.every((s) => s <= 4));
});
