import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ServiceError, type Tensor } from '@tessera/contract';
import { createOrtRunner, type OrtRunner } from './index.js';
import { gatherTable, matmulChain, ModelDir, recordingLogger, reluArgmax } from './testing/models.js';

const dir = new ModelDir();
const cpuOptions = { device: 'cpu', cudaDeviceId: 0, intraOpNumThreads: 1 } as const;
let runner: OrtRunner;

before(async () => {
  runner = await createOrtRunner({ ...cpuOptions, logger: recordingLogger().logger });
});
after(async () => {
  await runner.close();
  dir.remove();
});

const fp32 = (name: string, shape: number[], values: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape,
  data: Float32Array.from(values),
});

test('load reports names, metadata and provider; run returns every output in configuration order', async () => {
  // The configuration lists the outputs in the opposite order to the graph.
  const graph = reluArgmax();
  const model = dir.write(graph, {
    outputs: [
      { name: 'idx', datatype: 'INT64', shape: [] },
      { name: 'y', datatype: 'FP32', shape: [4] },
    ],
  });
  const loaded = await runner.load(model);
  assert.equal(loaded.provider, 'cpu');
  assert.equal(runner.provider(model), 'cpu');
  assert.deepEqual(loaded.inputs, [{ name: 'x', datatype: 'FP32', ortType: 'float32', shape: ['N', 4] }]);
  assert.deepEqual(
    loaded.outputs.map((o) => [o.name, o.datatype]),
    [
      ['y', 'FP32'],
      ['idx', 'INT64'],
    ],
  );

  const x = fp32('x', [2, 4], [-1, 2, 0.5, 3, 4, -2, 1, 0]);
  const result = await runner.run(model, [x]);
  assert.equal(result.provider, 'cpu');
  assert.ok(Number.isFinite(result.computeMs) && result.computeMs >= 0, `computeMs ${result.computeMs}`);
  const [idx, y] = result.outputs;
  assert.deepEqual({ ...idx, data: undefined }, { name: 'idx', datatype: 'INT64', shape: [2], data: undefined });
  assert.ok(idx!.data instanceof BigInt64Array);
  assert.deepEqual([...idx!.data], [3n, 0n]);
  assert.equal(y!.datatype, 'FP32');
  assert.deepEqual(y!.shape, [2, 4]);
  assert.deepEqual([...y!.data], [0, 2, 0.5, 3, 4, 0, 1, 0]);
  // Inputs are copied before transfer, so the caller's array is still intact.
  assert.equal(x.data.length, 8);
  assert.equal(x.data[1], 2);
});

test('a model whose configuration does not match its graph fails to load clearly', async () => {
  const model = dir.write(
    { ...reluArgmax(), name: 'mismatch' },
    { inputs: [{ name: 'x', datatype: 'INT32', shape: [4] }] },
  );
  await assert.rejects(runner.load(model), /input 'x' is INT32 in the configuration but float32 in the graph/);
});

test('an out-of-range index fails at run time as model_rejected_input with the ORT message', async () => {
  const model = dir.write(gatherTable());
  const ids = (values: bigint[]): Tensor[] => [
    { name: 'ids', datatype: 'INT64', shape: [values.length], data: BigInt64Array.from(values) },
  ];
  const ok = await runner.run(model, ids([3n, 0n]));
  assert.deepEqual([...ok.outputs[0]!.data], [30, 31, 0, 1]);
  const err = await runner.run(model, ids([1n, 10n])).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ServiceError);
  assert.equal(err.code, 'model_rejected_input');
  assert.match(
    err.message,
    /Gather.*indices element out of data bounds, idx=10 must be within the inclusive range \[-4,3\]/,
  );
  // The session is still usable afterwards.
  assert.equal((await runner.run(model, ids([2n]))).outputs[0]!.data[0], 20);
});

test('a feed with the wrong fixed dimension is model_rejected_input', async () => {
  const model = dir.write({ ...reluArgmax(), name: 'dims' });
  const err = await runner.run(model, [fp32('x', [1, 3], [1, 2, 3])]).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ServiceError);
  assert.equal(err.code, 'model_rejected_input');
  assert.match(err.message, /invalid dimensions for input: x/i);
});

test('reset recreates the session and it keeps working', async () => {
  const model = dir.write({ ...reluArgmax(), name: 'resettable' });
  await runner.load(model);
  await runner.reset(model);
  assert.equal(runner.provider(model), 'cpu');
  const result = await runner.run(model, [fp32('x', [1, 4], [1, -1, 1, -1])]);
  assert.deepEqual([...result.outputs[0]!.data], [1, 0, 1, 0]);
});

/**
 * Event-loop turns this thread gets while `work` is in flight. A call that blocks the thread
 * leaves it at most one turn (the one before the blocking part starts), however long it runs.
 */
async function turnsDuring(work: Promise<unknown>): Promise<number> {
  let done = false;
  const finished = work.finally(() => (done = true));
  let turns = 0;
  while (!done) {
    await new Promise((resolve) => setImmediate(resolve));
    turns++;
  }
  await finished;
  return turns;
}

const rowsOf = (rows: number): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [rows, 512],
  data: new Float32Array(rows * 512).fill(0.5),
});

test('onnxruntime-node run blocks the JavaScript thread that calls it (why sessions live on their own thread)', async (t) => {
  const ort = (await import('onnxruntime-node')).default;
  const model = dir.write({ ...matmulChain(), name: 'direct_chain' });
  const session = await ort.InferenceSession.create(model.file, { intraOpNumThreads: 1, executionMode: 'sequential' });
  const x = rowsOf(4000);
  const turns = await turnsDuring(session.run({ x: new ort.Tensor('float32', x.data, x.shape) }));
  await session.release();
  t.diagnostic(`direct run on the main thread: ${turns} event-loop turn(s) while it ran`);
  assert.ok(turns <= 2, `the main thread got ${turns} turns during the run`);
});

test('the main thread keeps turning while a long batch runs on the inference thread', async (t) => {
  const model = dir.write(matmulChain());
  await runner.load(model);
  // The batch the direct run above blocks the thread with: here the thread keeps serving its
  // event loop (many turns, where a blocked thread gets at most two).
  let computeMs = 0;
  const turns = await turnsDuring(
    runner.run(model, [rowsOf(4000)]).then((result) => {
      assert.deepEqual(result.outputs[0]!.shape, [4000, 512]);
      computeMs = result.computeMs;
    }),
  );
  t.diagnostic(`${computeMs.toFixed(0)} ms on the inference thread; ${turns} main-thread event-loop turns meanwhile`);
  assert.ok(turns > 2, `the main thread got ${turns} turns during the run`);
});

test('close is idempotent and later calls are refused', async () => {
  const own = await createOrtRunner({ ...cpuOptions, logger: recordingLogger().logger });
  const model = dir.write({ ...reluArgmax(), name: 'closing' });
  await own.load(model);
  await Promise.all([own.close(), own.close()]);
  await own.close();
  await assert.rejects(
    own.run(model, [fp32('x', [1, 4], [0, 0, 0, 0])]),
    (e: unknown) => e instanceof ServiceError && e.code === 'not_ready',
  );
  assert.equal(own.provider(model), undefined);
});

test('close waits for a batch already handed to the inference thread instead of killing the thread under it', async () => {
  const own = await createOrtRunner({ ...cpuOptions, logger: recordingLogger().logger });
  const model = dir.write({ ...matmulChain(), name: 'closing_busy' });
  await own.load(model);
  // Whether the thread has begun the batch or not when close() comes, the batch is answered.
  const running = own.run(model, [rowsOf(4000)]);
  await own.close();
  assert.deepEqual((await running).outputs[0]!.shape, [4000, 512]);
});

test('if the inference thread dies, the next run starts a new one and reloads the model', async () => {
  const { lines, logger } = recordingLogger();
  const own = await createOrtRunner({ ...cpuOptions, logger });
  const model = dir.write({ ...reluArgmax(), name: 'respawn' });
  await own.load(model);
  // Catch hold of the thread the runner talks to. It is killed while idle: terminating it
  // inside session.run would abort this whole process (onnxruntime-node 1.29 binding).
  const { Worker } = await import('node:worker_threads');
  const post = Worker.prototype.postMessage;
  let thread: InstanceType<typeof Worker> | undefined;
  Worker.prototype.postMessage = function (this: InstanceType<typeof Worker>, ...args: Parameters<typeof post>) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the point: keep the thread this call goes to
    thread = this;
    return post.apply(this, args);
  };
  try {
    await own.run(model, [fp32('x', [1, 4], [1, 2, 3, 4])]);
    await thread!.terminate();
    assert.equal(own.provider(model), undefined);
    assert.equal(lines.filter((l) => l.level === 'error').length, 1);
    const again = await own.run(model, [fp32('x', [1, 4], [-1, 2, -3, 4])]);
    assert.deepEqual([...again.outputs[0]!.data], [0, 2, 0, 4]);
    assert.equal(own.provider(model), 'cpu');
    assert.ok(lines.some((l) => l.msg === 'model session created on first run'));
  } finally {
    Worker.prototype.postMessage = post;
    await own.close();
  }
});

test('unload releases a session: the provider is forgotten until the model is loaded again', async () => {
  const model = dir.write(reluArgmax());
  await runner.load(model);
  await runner.unload(model);
  assert.equal(runner.provider(model), undefined);
  await runner.unload(model); // releasing twice is harmless
  assert.equal((await runner.load(model)).provider, 'cpu');
  assert.deepEqual([...(await runner.run(model, [fp32('x', [1, 4], [1, 5, 2, 3])])).outputs[0]!.data], [1, 5, 2, 3]);
});
