import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack, type Stack } from '@tessera/topology';
import { metricSum, request } from './http.js';
import { modelRepository } from './repository.js';

/**
 * The worker under a real memory limit: its address space is capped 1.5 GiB above what it uses
 * after loading, and `memory-hog` needs 64 MiB of activations per item, so batches of 64 and 32
 * items (4 and 2 GiB) make ONNX Runtime's allocation fail for real and 16 (1 GiB) fits. The cap
 * covers the whole process, V8's heap included: a headroom that the largest fitting batch fills
 * almost entirely (16 items under 1 GiB, 32 under 2 GiB) left V8 no room to grow while that
 * batch ran, and the worker died of a JavaScript heap OOM instead. 1.5 GiB leaves it 512 MiB.
 */
let stack: Stack;

before(async () => {
  stack = await startStack({
    replicas: 1,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-oom-')),
    // Authentication is not the subject here; the cache is off because repeated identical
    // requests must reach the worker to grow its batch cap back.
    env: { LOG_LEVEL: 'info', AUTH: 'off', RESPONSE_CACHE: 'off', DEFAULT_MODEL: 'affine' },
    workerEnv: { MODELS: 'affine,memory-hog', MEMORY_HEADROOM_MB: '1536', OOM_GROW_AFTER: '2' },
  });
});

after(async () => {
  await stack?.stop();
});

// Item i carries a power of two, so that ONNX Runtime's FP32 sum of 4M copies is exact.
const pow = (i: number) => 2 ** (i % 16);
const hog = (items: number, first: number) => ({
  inputs: [
    {
      name: 'x',
      datatype: 'FP32',
      shape: [items, 4],
      data: Array.from({ length: items }, (_, i) => [pow(first + i), 0, 0, 0]),
    },
  ],
});
const REPEATS = 4194304; // memory-hog's default tiling: 64 MiB of FP32 per item

test('a batch that runs out of memory is halved and retried: no request fails', async () => {
  const gw = stack.gatewayUrl;
  const big = request(`${gw}/v2/models/memory-hog/infer`, { body: hog(64, 1) });
  const small = Array.from({ length: 6 }, (_, k) =>
    request(`${gw}/v2/models/memory-hog/infer`, { body: hog(1, 100 + k) }),
  );
  const [bigRes, ...smallRes] = await Promise.all([big, ...small]);
  assert.equal(bigRes.status, 200, bigRes.text);
  const y = bigRes.body.outputs[0];
  assert.deepEqual(y.shape, [64, 1]);
  y.data.forEach((v: number, i: number) => assert.equal(v, REPEATS * pow(1 + i), `item ${i}`));
  smallRes.forEach((r, k) => {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.outputs[0].data[0], REPEATS * pow(100 + k));
  });

  const metrics = (await request(stack.workerMetricsUrl)).text;
  const ooms = metricSum(metrics, 'tessera_worker_oom_events_total', { model: 'memory-hog' });
  assert.ok(ooms >= 1, `out-of-memory events recorded (${ooms})`);
  const cap = metricSum(metrics, 'tessera_worker_batch_cap', { model: 'memory-hog' });
  assert.ok(cap < 64, `cap was halved (now ${cap})`);
  const log = readFileSync(stack.process('worker-1')!.logFile, 'utf8');
  assert.match(log, /Failed to allocate memory|bad_alloc/);
  assert.match(log, /batch cap halved/);

  // Successes let the cap climb back (OOM_GROW_AFTER=2 batches per doubling), as the log shows
  // while the 64 items run. A size that ran out of memory twice is retried only after a longer
  // wait, so the cap need not be back at 64 afterwards; without a failure it never shrinks.
  const changes = log
    .split('\n')
    .filter((l) => l.includes('"msg":"batch cap changed"'))
    .map((l) => JSON.parse(l) as { cap: number; reason?: string });
  const halved = changes.findIndex((c) => c.reason === 'oom');
  const history = changes.map((c) => `${c.reason}:${c.cap}`).join(' ');
  assert.ok(
    halved >= 0 && changes.slice(halved).some((c) => c.reason === 'grow'),
    `cap grew back after halving (${history})`,
  );
  for (let i = 0; i < 4; i++)
    assert.equal((await request(`${gw}/v2/models/memory-hog/infer`, { body: hog(1, 1) })).status, 200);
  const after = metricSum((await request(stack.workerMetricsUrl)).text, 'tessera_worker_batch_cap', {
    model: 'memory-hog',
  });
  assert.ok(after >= cap, `successes never shrink the cap (${cap} → ${after})`);
});

test('SIGTERM: the worker finishes the jobs it holds, exits 0, and nothing is lost', async () => {
  const gw = stack.gatewayUrl;
  await stack.addWorker({ env: { MODELS: 'affine,memory-hog' } });
  const pending = Array.from({ length: 12 }, (_, k) =>
    request(`${gw}/v2/models/memory-hog/infer`, { body: hog(2, k) }),
  );
  await new Promise((r) => setTimeout(r, 150));
  const first = stack.process('worker-1')!;
  first.signal('SIGTERM');
  const results = await Promise.all(pending);
  results.forEach((r, k) => {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.outputs[0].data[1], REPEATS * pow(k + 1));
  });
  const exit = await first.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
});
