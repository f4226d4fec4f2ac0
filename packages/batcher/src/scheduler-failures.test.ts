import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from './testing/harness.js';
import { makeModel, OomError, request, rows, values } from './testing/fixtures.js';

test('OOM halves the cap 64 -> 32 -> 16, resets each time, and every request succeeds', async () => {
  const h = harness({ fail: (call) => (call.items > 16 ? new OomError() : undefined) });
  const model = makeModel({ maxBatchSize: 64, maxQueueDelayMs: 0 });
  const all = Array.from({ length: 64 }, (_, i) => h.scheduler.submit(request(model, 1, i * 2)));
  await h.advance(100);
  assert.deepEqual(h.runner.sizes, [64, 32, 16, 16, 16, 16]);
  assert.equal(h.runner.resets.length, 2);
  assert.deepEqual(h.seen.ooms, [
    { from: 64, to: 32 },
    { from: 32, to: 16 },
  ]);
  assert.deepEqual(h.seen.caps, [32, 16]);
  assert.equal(h.scheduler.cap(model), 16);
  const outs = await Promise.all(all);
  outs.forEach((out, i) => {
    assert.ok(out.ok);
    assert.deepEqual(
      values(out.outputs[0]),
      rows(i * 2, 1).map((v) => v * 2),
    );
  });
  assert.equal(h.runner.maxActive, 1);
});

test('later batches are planned under the shrunken cap', async () => {
  const h = harness({ fail: (call) => (call.items > 4 ? new OomError() : undefined) });
  const model = makeModel({ maxBatchSize: 8, maxQueueDelayMs: 0 });
  void h.scheduler.submit(request(model, 8, 0));
  await h.advance(30);
  void h.scheduler.submit(request(model, 6, 0));
  await h.advance(30);
  assert.deepEqual(h.runner.sizes, [8, 4, 4, 4, 2]);
});

test('one item that does not fit the device fails with out_of_memory, once', async () => {
  const h = harness({ fail: () => new OomError() });
  const model = makeModel({ maxQueueDelayMs: 0 });
  const out = h.scheduler.submit(request(model, 1, 0));
  await h.advance(50);
  const o = await out;
  assert.ok(!o.ok);
  assert.equal(o.error.code, 'out_of_memory');
  assert.match(o.error.message, /single item does not fit in the device memory/);
  assert.deepEqual(h.runner.sizes, [1]);
  assert.equal(h.scheduler.cap(model), 8);
});

test('a non-OOM error fails only the offending request; batch-mates succeed', async () => {
  const poisoned = (call: { inputs: { data: ArrayLike<unknown> }[] }) => Array.from(call.inputs[0]!.data).includes(666);
  const h = harness({ fail: (call) => (poisoned(call) ? new Error('token 666 is out of vocabulary') : undefined) });
  const model = makeModel({ maxBatchSize: 4, maxQueueDelayMs: 0 });
  const bases = [0, 10, 665, 30];
  const all = bases.map((b) => h.scheduler.submit(request(model, 1, b, { id: `q${b}` })));
  await h.advance(50);
  const outs = await Promise.all(all);
  outs.forEach((out, i) => {
    if (bases[i] === 665) {
      assert.ok(!out.ok);
      assert.equal(out.error.code, 'model_rejected_input');
      assert.match(out.error.message, /666/);
    } else {
      assert.ok(out.ok);
      assert.deepEqual(
        values(out.outputs[0]),
        rows(bases[i]!, 1).map((v) => v * 2),
      );
    }
  });
  assert.deepEqual(h.seen.failures, ['q665']);
  assert.equal(h.runner.resets.length, 0);
  assert.equal(h.scheduler.cap(model), 4);
});

test('a split request whose slice fails is answered once and its remaining slices are dropped', async () => {
  let n = 0;
  const h = harness({ fail: () => (++n === 2 ? new Error('boom') : undefined) });
  const model = makeModel({ maxBatchSize: 2, maxQueueDelayMs: 0 });
  const big = h.scheduler.submit(request(model, 6, 0));
  await h.advance(50);
  const o = await big;
  assert.ok(!o.ok);
  assert.deepEqual(h.runner.sizes, [2, 2]);
  assert.equal(h.scheduler.pending(), 0);
});

test('the cap doubles back after growAfter consecutive successes, never above maxBatchSize', async () => {
  let oom = true;
  const h = harness({ growAfter: 3, fail: (call) => (oom && call.items > 8 ? new OomError() : undefined) });
  const model = makeModel({ maxBatchSize: 32, maxQueueDelayMs: 0 });
  void h.scheduler.submit(request(model, 32, 0));
  await h.advance(100);
  // 32 and 16 run out of memory; the third success at 8 already doubles the cap to 16.
  assert.deepEqual(h.runner.sizes, [32, 16, 8, 8, 8, 8]);
  assert.equal(h.scheduler.cap(model), 16);
  oom = false;
  for (let i = 0; i < 10; i++) {
    void h.scheduler.submit(request(model, 1, 0));
    await h.advance(10);
  }
  assert.equal(h.scheduler.cap(model), 32);
  assert.deepEqual(h.seen.caps, [16, 8, 16, 32]);
});
