import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createApiKey, startStack, waitFor as poll, type Stack } from '@tessera/topology';
import { queuedItems } from './redis-state.js';
import { customRepository } from './custom-repository.js';
import { authorize, currentAuthorization, metricSum, request, waitFor } from './http.js';

/**
 * Queue caps (429 before anything is enqueued), deadlines (504, and the worker drops what
 * expired instead of computing it), clients that go away, and priorities.
 */
let stack: Stack;
let gw: string;

before(async () => {
  const repo = await customRepository({
    affine: { from: 'affine' },
    capped: { from: 'affine', config: { max_queue_items: 8, cache: { enabled: false } } },
    quad: { from: 'affine', config: { max_batch_size: 4, cache: { enabled: false } } },
    'memory-hog': { from: 'memory-hog', config: { cache: { enabled: false } } },
    // Batches of 4 that take tens of milliseconds each, so that batches finish in their order.
    'slow-quad': { from: 'memory-hog', config: { max_batch_size: 4, cache: { enabled: false } } },
  });
  // One key fills whole queues here, on purpose (the per-key share is tested in fairness.test.ts).
  stack = await startStack({
    replicas: 3,
    modelRepository: repo,
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-backpressure-')),
    env: { LOG_LEVEL: 'warn', DEFAULT_MODEL: 'affine' },
    apiEnv: { KEY_QUEUE_SHARE_PERCENT: '100' },
    // One inference thread for every model: the deadline test needs one model's batch to keep
    // another model waiting (by default each model has its own instance and they run at once).
    workerEnv: { INFERENCE_THREADS: '1' },
  });
  gw = stack.gatewayUrl;
  authorize((await createApiKey({ redisUrl: stack.redisUrl, name: 'ops', scopes: ['infer', 'admin'] })).key);
});

after(async () => {
  await stack?.stop();
});

const x = (row: number[], parameters?: object) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [row.length / 4, 4], data: row }],
  ...(parameters ? { parameters } : {}),
});
const jobs = async (model: string, outcome: string) =>
  metricSum((await request(stack.workerMetricsUrl)).text, 'tessera_worker_jobs_total', { model, outcome });
const admin = (action: string, model: string) => request(`${gw}/admin/models/${model}/${action}`, { method: 'POST' });
const status = async (model: string) => (await request(`${gw}/admin/models/${model}`)).body;
/** Jobs in BullMQ not yet taken by a worker (admission is counted before the job is added). */
const queued = async (model: string) => {
  const { counts } = await status(model);
  return counts.waiting + counts.prioritized + counts.paused;
};
/**
 * Waits until `items` are admitted and queued. Requests that reach a replica together may share
 * one job, so jobs are not counted one per request: items are, admitted and then in queued jobs.
 */
const admittedAndQueued = async (model: string, items: number) => {
  await waitFor(`${items} items admitted`, async () => (await status(model)).in_flight_items === items);
  await waitFor(
    'every admitted item to be in a queued job',
    async () => (await queuedItems(stack.redisUrl, model)) === items,
  );
};
/**
 * Resumes a paused model and runs one request of it through the worker: a job still queued ahead
 * of it would be taken first, so once it is answered nothing earlier is left to compute.
 */
const resumeAndFlush = async (model: string) => {
  await admin('resume', model);
  const marker = await request(`${gw}/v2/models/${model}/infer`, { body: x([7, 7, 7, 7]) });
  assert.equal(marker.status, 200, marker.text);
};

describe('queue cap', () => {
  test('past max_queue_items (counted in items, across replicas) requests get 429 at once', async () => {
    await admin('pause', 'capped');
    // Eight one-item requests spread over the replicas fill the cap of 8 items.
    const pending = Array.from({ length: 8 }, (_, i) =>
      request(`${stack.apiUrls[i % 3]}/v2/models/capped/infer`, { body: x([i, 0, 0, 0]) }),
    );
    await admittedAndQueued('capped', 8);
    // The autoscaling signal counts items, whatever number of jobs carries them.
    assert.equal(
      metricSum((await request(stack.apiMetricsUrls[1]!)).text, 'tessera_queue_items', { model: 'capped' }),
      8,
    );
    const jobsBefore = await queued('capped');
    // Refused at once: the queue is paused, so any answer that waited for a worker would never come.
    const over = await request(`${gw}/v2/models/capped/infer`, { body: x([9, 0, 0, 0]) });
    assert.equal(over.status, 429, over.text);
    assert.equal(over.body.code, 'overloaded');
    assert.match(over.body.error, /^model 'capped' is overloaded: 8 items are queued or running \(limit 8\)/);
    assert.equal(over.headers.get('retry-after'), '1');
    assert.equal(await queued('capped'), jobsBefore, 'the refused request was never enqueued');
    assert.equal((await status('capped')).in_flight_items, 8);
    await admin('resume', 'capped');
    for (const res of await Promise.all(pending)) assert.equal(res.status, 200, res.text);
    await waitFor('the cap to be free again', async () => (await status('capped')).in_flight_items === 0);
    assert.equal((await request(`${gw}/v2/models/capped/infer`, { body: x([1, 2, 3, 4, 5, 6, 7, 8]) })).status, 200);
  });
});

describe('deadlines', () => {
  test('a request whose deadline passes while its job is queued gets 504; the job never runs', async () => {
    const ok = await jobs('quad', 'ok');
    await admin('pause', 'quad');
    const viaParameter = request(`${gw}/v2/models/quad/infer`, { body: x([1, 1, 1, 1], { timeout: 300_000 }) }); // microseconds, as Triton
    const viaHeader = request(`${gw}/v2/models/quad/infer`, {
      body: x([2, 2, 2, 2]),
      headers: { 'x-request-timeout-ms': '300' },
    });
    for (const res of await Promise.all([viaParameter, viaHeader])) {
      assert.equal(res.status, 504, res.text);
      assert.match(res.body.error, /no result within 300 ms \(job waiting\)/);
    }
    await resumeAndFlush('quad');
    await waitFor('the marker to be counted', async () => (await jobs('quad', 'ok')) >= ok + 1);
    assert.equal(await jobs('quad', 'ok'), ok + 1, 'nothing but the marker was computed');
    assert.equal((await status('quad')).in_flight_items, 0);
  });

  test('a job taken by the worker but still waiting for the device when its deadline passes is dropped, not computed', async () => {
    const [ok, expired] = [await jobs('quad', 'ok'), await jobs('quad', 'expired')];
    // A batch of 16 memory-hog items keeps the single device busy (about 0.5 s on a 2-core
    // machine). Once the worker holds the late request too, it is frozen until the API has given
    // up on that request: when it runs again the device is still busy, and the deadline has passed.
    const worker = stack.process('worker-1')!;
    const redis = new Redis(stack.redisUrl);
    const held = (model: string) =>
      poll(`the worker to take the ${model} job`, async () => (await redis.llen(`tessera:infer.${model}:active`)) > 0, {
        intervalMs: 5,
      });
    const hog = request(`${gw}/v2/models/memory-hog/infer`, {
      body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [16, 4], data: new Array(64).fill(1) }] },
    });
    try {
      await held('memory-hog');
      const late = request(`${gw}/v2/models/quad/infer`, {
        body: x([3, 3, 3, 3]),
        headers: { 'x-request-timeout-ms': '250' },
      });
      await held('quad');
      worker.signal('SIGSTOP');
      const answer = await late;
      assert.equal(answer.status, 504, answer.text);
    } finally {
      worker.signal('SIGCONT');
      redis.disconnect();
    }
    const hogged = await hog;
    assert.equal(hogged.status, 200, hogged.text);
    await waitFor('the worker to drop the expired job', async () => (await jobs('quad', 'expired')) === expired + 1);
    assert.equal(await jobs('quad', 'ok'), ok, 'it was not computed');
  });

  test('a client that disconnects has its queued job withdrawn', async () => {
    const ok = await jobs('quad', 'ok');
    await admin('pause', 'quad');
    const ac = new AbortController();
    const gone = fetch(`${gw}/v2/models/quad/infer`, {
      method: 'POST',
      body: JSON.stringify(x([4, 4, 4, 4])),
      headers: { 'content-type': 'application/json', authorization: currentAuthorization() },
      signal: ac.signal,
    }).catch((e: Error) => e);
    await waitFor('the job to be queued', async () => (await queued('quad')) === 1);
    ac.abort();
    assert.ok((await gone) instanceof Error);
    await waitFor(
      'the job to be withdrawn',
      async () => (await status('quad')).in_flight_items === 0 && (await queued('quad')) === 0,
    );
    await resumeAndFlush('quad');
    await waitFor('the marker to be counted', async () => (await jobs('quad', 'ok')) >= ok + 1);
    assert.equal(await jobs('quad', 'ok'), ok + 1, 'the abandoned request was never computed, only the marker');
  });
});

describe('priorities', () => {
  test('higher-priority requests are served first, even when they arrive last', async () => {
    await admin('pause', 'slow-quad');
    const order: string[] = [];
    const send = (name: string, priority: number, value: number) =>
      request(`${gw}/v2/models/slow-quad/infer`, { body: x([value, 0, 0, 0], { priority }) }).then((res) => {
        assert.equal(res.status, 200, res.text);
        order.push(name);
      });
    const pending = Array.from({ length: 8 }, (_, i) => send(`low${i}`, 9, i));
    await admittedAndQueued('slow-quad', 8);
    pending.push(...Array.from({ length: 4 }, (_, i) => send(`high${i}`, 1, 100 + i)));
    await admittedAndQueued('slow-quad', 12);
    await admin('resume', 'slow-quad');
    await Promise.all(pending);
    const rank = (prefix: string) => order.flatMap((n, i) => (n.startsWith(prefix) ? [i] : []));
    // Batches of 4, each a few tens of milliseconds long, finish in order. On resume the idle
    // worker runs the first job it takes at once (a high one: BullMQ hands out priority 1
    // first), and the other high ones go into the next batch ahead of any low one. So every
    // high one is among the first two batches (ranks 0-7) and a high one finishes first, where
    // first-come order would put them all in the last two batches (8-11).
    assert.ok(
      Math.max(...rank('high')) < 8,
      `high-priority requests finished in the first two batches: ${order.join(' ')}`,
    );
    assert.ok(order[0]!.startsWith('high'), `a high-priority request finished first: ${order.join(' ')}`);
  });
});
