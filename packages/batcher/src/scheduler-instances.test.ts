import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from './testing/harness.js';
import { makeModel, OomError, request } from './testing/fixtures.js';

test('two instances of a model run two batches at once, each instance one batch at a time', async () => {
  const model = makeModel({ name: 'rec', maxBatchSize: 4, maxQueueDelayMs: 0 });
  const h = harness({ instances: () => ({ count: 2, threads: 1 }), threadBudget: 2 });
  const running = new Set<number>();
  const runner = h.runner;
  const run = runner.run.bind(runner);
  runner.run = async (m, inputs, instance = 0) => {
    assert.ok(!running.has(instance), `instance ${instance} ran two batches at once`);
    running.add(instance);
    try {
      return await run(m, inputs, instance);
    } finally {
      running.delete(instance);
    }
  };
  const outcomes = Array.from({ length: 16 }, (_, i) => h.scheduler.submit(request(model, 1, i * 10)));
  await h.advance(40);
  for (const o of outcomes) assert.ok((await o).ok);
  assert.equal(runner.maxActive, 2);
  assert.deepEqual(new Set(runner.calls.map((c) => c.instance)), new Set([0, 1]));
});

test('the thread budget bounds runs across models: 3 instances, 2 threads', async () => {
  const a = makeModel({ name: 'a', maxBatchSize: 2, maxQueueDelayMs: 0 });
  const b = makeModel({ name: 'b', maxBatchSize: 2, maxQueueDelayMs: 0 });
  const h = harness({ instances: (m) => ({ count: m.name === 'a' ? 2 : 1, threads: 1 }), threadBudget: 2 });
  const outcomes = Array.from({ length: 12 }, (_, i) => h.scheduler.submit(request(i % 2 ? a : b, 1, i * 10)));
  await h.advance(60);
  for (const o of outcomes) assert.ok((await o).ok);
  assert.equal(h.runner.maxActive, 2);
});

test('a GPU instance (no CPU threads) runs beside a CPU run that fills the budget', async () => {
  const cpu = makeModel({ name: 'cpu', maxBatchSize: 1, maxQueueDelayMs: 0 });
  const gpu = makeModel({ name: 'gpu', maxBatchSize: 1, maxQueueDelayMs: 0 });
  const h = harness({ instances: (m) => ({ count: 1, threads: m.name === 'gpu' ? 0 : 2 }), threadBudget: 2 });
  const outcomes = [h.scheduler.submit(request(cpu, 1, 0)), h.scheduler.submit(request(gpu, 1, 10))];
  await h.flush();
  assert.equal(h.runner.active, 2);
  await h.advance(10);
  for (const o of outcomes) assert.ok((await o).ok);
});

test('out of memory on one instance recreates that instance and halves only its cap', async () => {
  const model = makeModel({ name: 'big', maxBatchSize: 8, maxQueueDelayMs: 0 });
  const h = harness({
    instances: () => ({ count: 2, threads: 1 }),
    threadBudget: 2,
    fail: (call) => (call.instance === 1 && call.items > 4 ? new OomError() : undefined),
  });
  const outcomes = [h.scheduler.submit(request(model, 8, 0)), h.scheduler.submit(request(model, 8, 100))];
  await h.advance(40);
  for (const o of outcomes) assert.ok((await o).ok, 'the items are retried, not failed');
  assert.deepEqual(h.runner.resetInstances, [1]);
  assert.equal(h.scheduler.cap(model, 0), 8);
  assert.equal(h.scheduler.cap(model, 1), 4);
});

const heavy = makeModel({ name: 'heavy', maxBatchSize: 1, maxQueueDelayMs: 0 });
const small = makeModel({ name: 'small', maxBatchSize: 1, maxQueueDelayMs: 0, latencyObjectiveMs: 50 });
/** Two heavy instances on a budget of two threads, and a small interactive model beside them. */
const twoHeavyInstances = (smallMs = 1) =>
  harness({
    instances: (m) => ({ count: m.name === 'heavy' ? 2 : 1, threads: 1 }),
    threadBudget: 2,
    computeMsFor: (m) => (m.name === 'heavy' ? 100 : smallMs),
  });

test('a flooded model keeps every thread while an interactive model is idle between its requests', async () => {
  const h = twoHeavyInstances();
  // One interactive client: a request now and then, idle in between.
  const first = h.scheduler.submit(request(small, 1, 0));
  await h.advance(2);
  assert.ok((await first).ok);
  const flood = Array.from({ length: 6 }, (_, i) => h.scheduler.submit(request(heavy, 1, 100 + i)));
  await h.flush();
  assert.equal(h.runner.active, 2, 'both heavy instances run: no thread sits idle for the small model');
  // Its next request starts at once, beside the two heavy batches, and is answered before they end.
  const quick = h.scheduler.submit(request(small, 1, 30));
  await h.flush();
  assert.equal(h.runner.active, 3);
  await h.advance(2);
  assert.ok((await quick).ok);
  assert.equal(h.runner.active, 2, 'the heavy batches are still running');
  await h.advance(300);
  for (const o of flood) assert.ok((await o).ok);
  assert.equal(h.runner.maxActive, 3, 'never more than one run beyond the budget');
});

test('a model past its light share, or without a latency objective, waits for a thread', async () => {
  const plain = makeModel({ name: 'plain', maxBatchSize: 1, maxQueueDelayMs: 0 });
  for (const [model, smallMs] of [
    [plain, 1],
    [small, 80],
  ] as const) {
    const h = twoHeavyInstances(smallMs);
    // The interactive model ran for 80 of the last 100 ms: far more than a light share.
    if (smallMs > 1) {
      const busy = h.scheduler.submit(request(model, 1, 0));
      await h.advance(100);
      assert.ok((await busy).ok);
    }
    const flood = [h.scheduler.submit(request(heavy, 1, 100)), h.scheduler.submit(request(heavy, 1, 110))];
    await h.flush();
    const late = h.scheduler.submit(request(model, 1, 30));
    await h.flush();
    assert.equal(h.runner.active, 2, `${model.name}: no run beyond the budget`);
    await h.advance(100);
    assert.equal(h.runner.active, 1, `${model.name}: it takes the first thread that frees`);
    await h.advance(100);
    for (const o of [...flood, late]) assert.ok((await o).ok);
  }
});

test('one run at a time beyond the budget, even with two light models', async () => {
  const other = makeModel({ name: 'other', maxBatchSize: 1, maxQueueDelayMs: 0, latencyObjectiveMs: 50 });
  const h = twoHeavyInstances(5);
  const flood = [h.scheduler.submit(request(heavy, 1, 100)), h.scheduler.submit(request(heavy, 1, 110))];
  await h.flush();
  const quick = [h.scheduler.submit(request(small, 1, 0)), h.scheduler.submit(request(other, 1, 10))];
  await h.flush();
  assert.equal(h.runner.active, 3, 'one light run beside the two heavy ones; the other waits for it');
  await h.advance(5);
  assert.equal(h.runner.active, 3, 'then the other light model has its turn');
  await h.advance(5);
  for (const o of quick) assert.ok((await o).ok);
  assert.equal(h.runner.maxActive, 3);
  await h.advance(100);
  for (const o of flood) assert.ok((await o).ok);
});
