import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHalfBits } from '@tessera/contract';
import { harness } from './testing/harness.js';
import { ManualClock } from './manual-clock.js';
import { Scheduler } from './scheduler.js';
import { FakeRunner } from './testing/fake-runner.js';
import { classify, isOom, makeModel, request, rows, tensor, values } from './testing/fixtures.js';

test('a request larger than the cap runs in cap-sized slices and is reassembled in order', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 4, maxQueueDelayMs: 0 });
  const big = h.scheduler.submit(request(model, 10, 0));
  const small = h.scheduler.submit(request(model, 1, 500));
  await h.advance(30);
  assert.deepEqual(h.runner.sizes, [4, 4, 3]);
  const out = await big;
  assert.ok(out.ok);
  assert.deepEqual(out.outputs[0]?.shape, [10, 2]);
  assert.deepEqual(
    values(out.outputs[0]),
    rows(0, 10).map((v) => v * 2),
  );
  // Three slices of 5 ms each back to back from t = 0: no time spent waiting.
  assert.deepEqual(out.timing, { queueMs: 0, computeMs: 15, batchSize: 3 });
  const s = await small;
  assert.ok(s.ok);
  assert.deepEqual(values(s.outputs[0]), [1000, 1002]);
  assert.equal(s.timing.batchSize, 3);
});

test('incompatible shapes wait for a later batch; each request gets its own rows', async () => {
  const h = harness();
  const model = makeModel({
    maxBatchSize: 8,
    maxQueueDelayMs: 0,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }],
  });
  const a = h.scheduler.submit({ ...request(model, 1, 0), inputs: [tensor('x', 'FP32', [1, 2], [1, 2])] });
  const b = h.scheduler.submit({ ...request(model, 1, 0), inputs: [tensor('x', 'FP32', [1, 3], [3, 4, 5])] });
  const c = h.scheduler.submit({ ...request(model, 2, 0), inputs: [tensor('x', 'FP32', [2, 2], [6, 7, 8, 9])] });
  await h.advance(20);
  assert.deepEqual(h.runner.sizes, [3, 1]);
  const [oa, ob, oc] = await Promise.all([a, b, c]);
  assert.ok(oa?.ok && ob?.ok && oc?.ok);
  assert.deepEqual(values(oa.outputs[0]), [2, 4]);
  assert.deepEqual(values(ob.outputs[0]), [6, 8, 10]);
  assert.deepEqual(values(oc.outputs[0]), [12, 14, 16, 18]);
});

test('padded INT64 and FP16 batches are cropped back to each request', async () => {
  const h = harness();
  const model = makeModel({
    maxBatchSize: 8,
    maxQueueDelayMs: 0,
    inputs: [
      { name: 'ids', datatype: 'INT64', shape: [-1], pad: [{ axis: 0, value: 0 }] },
      { name: 'w', datatype: 'FP16', shape: [-1], pad: [{ axis: 0, value: 0 }] },
    ],
    outputs: [
      { name: 'ids2', datatype: 'INT64', shape: [-1], crop: [{ axis: 0, input: 'ids', inputAxis: 0, scale: 1 }] },
      { name: 'w2', datatype: 'FP16', shape: [-1], crop: [{ axis: 0, input: 'w', inputAxis: 0, scale: 1 }] },
    ],
  });
  const hb = (v: number) => toHalfBits(v);
  const mk = (ids: bigint[], w: number[]) => ({
    ...request(model, 1, 0),
    inputs: [tensor('ids', 'INT64', [1, ids.length], ids), tensor('w', 'FP16', [1, w.length], w.map(hb))],
  });
  const short = h.scheduler.submit(mk([1n], [0.5]));
  const long = h.scheduler.submit(mk([2n, 3n, 4n], [1, 2, 3]));
  await h.advance(10);
  assert.deepEqual(h.runner.sizes, [2]);
  assert.deepEqual(h.runner.calls[0]?.inputs[0]?.shape, [2, 3]);
  const [s, l] = await Promise.all([short, long]);
  assert.ok(s.ok && l.ok);
  assert.deepEqual(s.outputs[0]?.shape, [1, 1]);
  assert.deepEqual(Array.from(s.outputs[0]!.data as BigInt64Array), [2n]);
  assert.deepEqual(values(s.outputs[1]), [hb(1)]);
  assert.deepEqual(Array.from(l.outputs[0]!.data as BigInt64Array), [4n, 6n, 8n]);
  assert.deepEqual(values(l.outputs[1]), [hb(2), hb(4), hb(6)]);
});

test('only the requested outputs come back, in the requested order', async () => {
  const h = harness();
  const model = makeModel({
    maxQueueDelayMs: 0,
    outputs: [
      { name: 'y', datatype: 'FP32', shape: [2] },
      { name: 'z', datatype: 'FP32', shape: [2] },
    ],
  });
  const only = h.scheduler.submit(request(model, 1, 1, { outputs: ['z'] }));
  const both = h.scheduler.submit(request(model, 1, 1));
  await h.advance(10);
  const [o, b] = await Promise.all([only, both]);
  assert.ok(o.ok && b.ok);
  assert.deepEqual(
    o.outputs.map((t) => t.name),
    ['z'],
  );
  assert.deepEqual(
    b.outputs.map((t) => t.name),
    ['y', 'z'],
  );
});

test('across models the one whose oldest waiting item is oldest goes first', async () => {
  const h = harness();
  const a = makeModel({ name: 'a', maxBatchSize: 4, maxQueueDelayMs: 0 });
  const b = makeModel({ name: 'b', maxBatchSize: 4, maxQueueDelayMs: 0 });
  void h.scheduler.submit(request(a, 1, 0));
  await h.flush();
  await h.advance(1);
  void h.scheduler.submit(request(b, 1, 0));
  await h.advance(1);
  void h.scheduler.submit(request(a, 1, 0));
  void h.scheduler.submit(request(b, 1, 0));
  void h.scheduler.submit(request(a, 1, 0));
  await h.advance(30);
  assert.deepEqual(h.modelsRun(), ['a', 'b', 'a']);
  assert.deepEqual(h.runner.sizes, [1, 2, 2]);
  assert.equal(h.scheduler.cap(a), 4);
});

test('a model without a batch dimension runs one request per batch, tensors untouched', async () => {
  const h = harness();
  const model = makeModel({ maxBatchSize: 0, maxQueueDelayMs: 0 });
  const mk = (v: number) => ({ ...request(model, 1, 0), inputs: [tensor('x', 'FP32', [2], [v, v])] });
  const first = h.scheduler.submit(mk(1));
  const second = h.scheduler.submit(mk(2));
  await h.advance(20);
  assert.deepEqual(
    h.runner.calls.map((c) => c.inputs[0]?.shape),
    [[2], [2]],
  );
  const [x, y] = await Promise.all([first, second]);
  assert.ok(x.ok && y.ok);
  assert.deepEqual(values(x.outputs[0]), [2, 2]);
  assert.deepEqual(values(y.outputs[0]), [4, 4]);
  assert.equal(h.scheduler.cap(model), 1);
});

test('malformed requests are answered invalid_input without reaching the device', async () => {
  const h = harness();
  const model = makeModel();
  const out = await h.scheduler.submit({ ...request(model, 2, 0), items: 3 });
  assert.ok(!out.ok);
  assert.equal(out.error.code, 'invalid_input');
  assert.equal(h.runner.calls.length, 0);
});

test('hooks that throw do not disturb batching', async () => {
  const clock = new ManualClock(0);
  const runner = new FakeRunner();
  const boom = () => {
    throw new Error('metrics down');
  };
  const scheduler = new Scheduler({
    runner,
    clock,
    isOutOfMemory: isOom,
    classifyError: classify,
    events: { onBatch: boom, onCapChange: boom, onOom: boom, onFailure: boom },
  });
  const out = await scheduler.submit(request(makeModel({ maxQueueDelayMs: 0 }), 2, 4, { enqueuedAt: 100 }));
  assert.ok(out.ok);
  assert.deepEqual(values(out.outputs[0]), [8, 10, 12, 14]);
  // enqueuedAt after the clock's now (skew between machines) never gives a negative queue time.
  assert.equal(out.timing.queueMs, 0);
});
