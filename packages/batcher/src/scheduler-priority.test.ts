import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from './testing/harness.js';
import { makeModel, request, values } from './testing/fixtures.js';

/** The first value of each row of a batch's input: which requests (by base) the batch held. */
const bases = (h: ReturnType<typeof harness>, call: number): number[] => {
  const v = values({ ...h.runner.calls[call]!.inputs[0]!, name: 'x' });
  return v.filter((_, i) => i % 2 === 0);
};

test('higher-priority items go into the next batch first, in arrival order among equals', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 4, maxQueueDelayMs: 0 });
  // Occupies the device, so that everything below waits for the next batch.
  const first = h.scheduler.submit(request(model, 1, 0));
  await h.flush();
  const low = [100, 110, 120, 130].map((base) => h.scheduler.submit(request(model, 1, base, { priority: 5 })));
  const high = [200, 210, 220].map((base) => h.scheduler.submit(request(model, 1, base, { priority: 1 })));
  const unranked = h.scheduler.submit(request(model, 1, 300));
  await h.advance(30);
  assert.deepEqual(h.runner.sizes, [1, 4, 4]);
  assert.deepEqual(bases(h, 1), [200, 210, 220, 100], 'the three high-priority requests, then the oldest low one');
  assert.deepEqual(bases(h, 2), [110, 120, 130, 300], 'then the rest by arrival; no priority ranks last');
  for (const p of [first, ...low, ...high, unranked]) assert.ok((await p).ok);
});

test('a request past its deadline is answered timeout before its batch forms, and never runs', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 4, maxQueueDelayMs: 0 });
  const first = h.scheduler.submit(request(model, 1, 0));
  await h.flush();
  // The device is busy for 5 ms; this request may wait 2.
  const late = h.scheduler.submit(request(model, 1, 100, { deadline: h.clock.now() + 2 }));
  const patient = h.scheduler.submit(request(model, 1, 200, { deadline: h.clock.now() + 1000 }));
  await h.advance(20);
  const out = await late;
  assert.ok(!out.ok);
  assert.equal(out.error.code, 'timeout');
  assert.match(out.error.message, /^request timeout expired: /, 'the words every deadline answer starts with');
  assert.ok((await first).ok);
  assert.ok((await patient).ok);
  assert.deepEqual(h.runner.sizes, [1, 1]);
  assert.deepEqual(bases(h, 1), [200], 'only the request still within its deadline ran');
  assert.equal(h.scheduler.pending(), 0);
});
