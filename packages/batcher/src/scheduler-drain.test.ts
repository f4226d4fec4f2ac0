import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from './testing/harness.js';
import { makeModel, request } from './testing/fixtures.js';

test('drain on an idle scheduler resolves at once', async () => {
  const h = harness();
  let done = false;
  void h.scheduler.drain().then(() => (done = true));
  await h.flush();
  assert.equal(done, true);
});

test('drain finishes the running batch and everything pending, then resolves', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 2, maxQueueDelayMs: 0 });
  const accepted = [0, 1, 2, 3, 4].map((i) => h.scheduler.submit(request(model, 1, i)));
  await h.flush();
  assert.deepEqual(h.runner.sizes, [2]);
  let drained = false;
  void h.scheduler.drain().then(() => (drained = true));
  const late = await h.scheduler.submit(request(model, 1, 9));
  assert.ok(!late.ok);
  assert.equal(late.error.code, 'not_ready');
  assert.equal(late.error.message, 'worker is shutting down');
  await h.advance(10);
  assert.equal(drained, false);
  await h.advance(5);
  assert.equal(drained, true);
  assert.deepEqual(h.runner.sizes, [2, 2, 1]);
  assert.ok((await Promise.all(accepted)).every((o) => o.ok));
  assert.equal(h.scheduler.pending(), 0);
});

test('a batch held open for more arrivals goes at once when draining', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 8, maxQueueDelayMs: 1000 });
  const a = h.scheduler.submit(request(model, 1, 0));
  const b = h.scheduler.submit(request(model, 1, 0));
  await h.advance(1);
  assert.deepEqual(h.runner.sizes, []);
  const drained = h.scheduler.drain();
  await h.flush();
  assert.deepEqual(h.runner.sizes, [2]);
  await h.advance(5);
  await drained;
  assert.ok((await a).ok && (await b).ok);
  assert.equal(h.clock.pendingTimers, 0);
});
