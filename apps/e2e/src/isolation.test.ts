import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { customRepository } from './custom-repository.js';
import { authorize, metricSum, request, waitFor } from './http.js';

/**
 * A small model with a latency objective is not stuck behind a flood of a heavy model that
 * shares the worker's only inference thread: it runs in the next free slot. Ordering only, no
 * times: how many heavy requests finish while the small one is in flight.
 */
let stack: Stack;
let gw: string;
const HEAVY = 24;
const BATCH = 4;

before(async () => {
  const repo = await customRepository({
    // Batches of 4 that take tens of milliseconds each; two instances sharing one thread.
    heavy: {
      from: 'memory-hog',
      config: { max_batch_size: BATCH, cache: { enabled: false }, instance_group: [{ count: 2, kind: 'KIND_CPU' }] },
    },
    quick: { from: 'affine', config: { latency_objective_ms: 50, cache: { enabled: false } } },
  });
  stack = await startStack({
    replicas: 1,
    modelRepository: repo,
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-isolation-')),
    env: { LOG_LEVEL: 'warn', DEFAULT_MODEL: 'quick' },
    // One thread for every run, and room to hold the whole flood: arrival order would put the
    // quick request behind all of it.
    workerEnv: { INFERENCE_THREADS: '1', WORKER_CONCURRENCY: String(2 * HEAVY), BATCH_TUNING: 'off' },
  });
  gw = stack.gatewayUrl;
  authorize((await createApiKey({ redisUrl: stack.redisUrl, name: 'ops', scopes: ['infer', 'admin'] })).key);
});

after(async () => {
  await stack?.stop();
});

const x = (v: number) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [v, 0, 0, 0] }] });

test('instances per model show in /health and the worker metrics', async () => {
  const health = await waitFor('a live worker', async () => {
    const res = await request(`${gw}/health`);
    return res.body.workers?.length > 0 ? res.body : undefined;
  });
  assert.deepEqual(health.workers[0].instances, { 'heavy@1': 2, 'quick@1': 1 });
  const metrics = (await request(stack.workerMetricsUrl)).text;
  assert.equal(metricSum(metrics, 'tessera_worker_model_instances', { model: 'heavy' }), 2);
});

test('a request of a model with a latency objective overtakes a held flood of another model', async () => {
  await request(`${gw}/admin/models/heavy/pause`, { method: 'POST' });
  let answered = 0;
  const flood = Array.from({ length: HEAVY }, (_, i) =>
    request(`${gw}/v2/models/heavy/infer`, { body: x(i) }).then((res) => {
      assert.equal(res.status, 200);
      answered++;
    }),
  );
  await waitFor(
    'the flood admitted',
    async () => (await request(`${gw}/admin/models/heavy`)).body.in_flight_items === HEAVY,
  );
  await request(`${gw}/admin/models/heavy/resume`, { method: 'POST' });
  // The worker holds the whole flood once no heavy job is left waiting in the queue.
  await waitFor('the flood held by the worker', async () => {
    const { counts } = (await request(`${gw}/admin/models/heavy`)).body;
    return counts.waiting + counts.prioritized + counts.paused === 0;
  });
  const before = answered;
  assert.ok(
    HEAVY - before > 3 * BATCH,
    `the flood is still mostly waiting (${before} of ${HEAVY} answered); the machine is too slow for this check`,
  );
  const res = await request(`${gw}/v2/models/quick/infer`, { body: x(1) });
  const during = answered - before;
  assert.equal(res.status, 200);
  // At most the batch running when it arrived and one finishing on the way: not the whole flood.
  assert.ok(during <= 2 * BATCH, `${during} heavy requests finished while the quick one waited`);
  await Promise.all(flood);
});
