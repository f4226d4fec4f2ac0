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

test('a second instance leaves a thread for another active model, so its request never waits for a heavy batch', async () => {
  const heavy = makeModel({ name: 'heavy', maxBatchSize: 1, maxQueueDelayMs: 0 });
  const small = makeModel({ name: 'small', maxBatchSize: 1, maxQueueDelayMs: 0 });
  const h = harness({
    instances: (m) => ({ count: m.name === 'heavy' ? 2 : 1, threads: 1 }),
    threadBudget: 2,
    computeMsFor: (m) => (m.name === 'heavy' ? 100 : 1),
  });
  // Alone, the heavy model runs on both threads.
  const alone = [h.scheduler.submit(request(heavy, 1, 0)), h.scheduler.submit(request(heavy, 1, 10))];
  await h.flush();
  assert.equal(h.runner.active, 2);
  await h.advance(100);
  for (const o of alone) assert.ok((await o).ok);
  // Once the small model is active, the heavy one keeps to one thread and the small one's next
  // request starts at once.
  assert.ok(
    (
      await (async () => {
        const o = h.scheduler.submit(request(small, 1, 20));
        await h.advance(2);
        return o;
      })()
    ).ok,
  );
  const flood = Array.from({ length: 4 }, (_, i) => h.scheduler.submit(request(heavy, 1, 100 + i)));
  await h.flush();
  assert.equal(h.runner.active, 1, 'one heavy run; a thread is kept for the small model');
  const quick = h.scheduler.submit(request(small, 1, 30));
  await h.flush();
  assert.equal(h.runner.active, 2, 'the small request started beside the heavy batch');
  await h.advance(2);
  assert.ok((await quick).ok);
  // Quiet for longer than ACTIVE_MS: the heavy model has both threads again.
  await h.advance(1200);
  for (const o of flood) assert.ok((await o).ok);
  const more = [h.scheduler.submit(request(heavy, 1, 200)), h.scheduler.submit(request(heavy, 1, 210))];
  await h.flush();
  assert.equal(h.runner.active, 2);
  await h.advance(100);
  for (const o of more) assert.ok((await o).ok);
});
