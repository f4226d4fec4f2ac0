import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { customRepository } from './custom-repository.js';
import { authorize, metricSum, request, waitFor } from './http.js';
import { attachedRetries } from './redis-state.js';

/**
 * The response cache (hits never reach the worker; a new model version never sees an old
 * version's results) and idempotent retries (a retry through another replica attaches to the
 * job in flight or gets its stored result; the worker computes once).
 */
let stack: Stack;
let gw: string;

before(async () => {
  const repo = await customRepository({
    affine: { from: 'affine', versions: ['1', '2'] },
    uncached: { from: 'affine', config: { cache: { enabled: false } } },
  });
  stack = await startStack({
    replicas: 3,
    modelRepository: repo,
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-cache-')),
    env: { LOG_LEVEL: 'warn', DEFAULT_MODEL: 'affine' },
  });
  gw = stack.gatewayUrl;
  authorize((await createApiKey({ redisUrl: stack.redisUrl, name: 'ops', scopes: ['infer', 'admin'] })).key);
});

after(async () => {
  await stack?.stop();
});

const x = (row: number[]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: row }] });
const computed = async (model: string) =>
  metricSum((await request(stack.workerMetricsUrl)).text, 'tessera_worker_jobs_total', { model, outcome: 'ok' });
const cacheCount = async (model: string, result: string) => {
  let n = 0;
  for (const u of stack.apiMetricsUrls)
    n += metricSum((await request(u)).text, 'tessera_cache_requests_total', { model, result });
  return n;
};

describe('response cache', () => {
  test('a repeated request is a hit: same answer, X-Cache and parameters say so, the worker is not asked', async () => {
    const jobs = await computed('affine');
    const first = await request(`${gw}/v2/models/affine/infer`, { body: x([1, 2, 3, 4]) });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-cache'), 'miss');
    assert.equal(first.body.parameters.cache, 'miss');
    const again = await request(`${gw}/v2/models/affine/infer`, { body: x([1, 2, 3, 4]) });
    assert.equal(again.headers.get('x-cache'), 'hit');
    assert.equal(again.body.parameters.cache, 'hit');
    assert.equal(again.body.parameters.batch_size, 0, 'nothing ran');
    assert.deepEqual(again.body.outputs, first.body.outputs);
    // The same tensors through /predict are the same inference.
    const predicted = await request(`${gw}/predict`, { body: { model: 'affine', inputs: [[1, 2, 3, 4]] } });
    assert.equal(predicted.headers.get('x-cache'), 'hit');
    assert.deepEqual(predicted.body.results, [{ y: [3, 5, 7, 9], sum: 24 }]);
    assert.equal(await computed('affine'), jobs + 1, 'the worker computed once');
    assert.ok((await cacheCount('affine', 'hit')) >= 2);
    assert.ok((await cacheCount('affine', 'miss')) >= 1);
  });

  test('different bytes, outputs or version miss; the version is part of the key', async () => {
    const jobs = await computed('affine');
    const v1 = await request(`${gw}/v2/models/affine/versions/1/infer`, { body: x([5, 6, 7, 8]) });
    assert.equal(v1.headers.get('x-cache'), 'miss');
    assert.equal(v1.body.model_version, '1');
    const v2 = await request(`${gw}/v2/models/affine/versions/2/infer`, { body: x([5, 6, 7, 8]) });
    assert.equal(v2.headers.get('x-cache'), 'miss', 'version 2 never gets version 1 results');
    assert.equal(v2.body.model_version, '2');
    assert.equal(
      (await request(`${gw}/v2/models/affine/versions/2/infer`, { body: x([5, 6, 7, 8]) })).headers.get('x-cache'),
      'hit',
    );
    assert.equal(
      (await request(`${gw}/v2/models/affine/versions/1/infer`, { body: x([5, 6, 7, 8.5]) })).headers.get('x-cache'),
      'miss',
    );
    const onlySum = await request(`${gw}/v2/models/affine/versions/1/infer`, {
      body: { ...x([5, 6, 7, 8]), outputs: [{ name: 'sum' }] },
    });
    assert.equal(onlySum.headers.get('x-cache'), 'miss');
    assert.deepEqual(
      onlySum.body.outputs.map((o: { name: string }) => o.name),
      ['sum'],
    );
    assert.equal(await computed('affine'), jobs + 4);
  });

  test('a model with the cache disabled, and Cache-Control: no-cache, always compute', async () => {
    const jobs = await computed('uncached');
    for (let i = 0; i < 2; i++)
      assert.equal(
        (await request(`${gw}/v2/models/uncached/infer`, { body: x([1, 1, 1, 1]) })).headers.get('x-cache'),
        'off',
      );
    assert.equal(await computed('uncached'), jobs + 2);
    const before = await computed('affine');
    const fresh = await request(`${gw}/v2/models/affine/infer`, {
      body: x([1, 2, 3, 4]),
      headers: { 'cache-control': 'no-cache' },
    });
    assert.equal(fresh.headers.get('x-cache'), 'off');
    assert.equal(await computed('affine'), before + 1);
  });
});

describe('idempotent retries', () => {
  const admin = (action: string, model: string) => request(`${gw}/admin/models/${model}/${action}`, { method: 'POST' });

  test('a retry through another replica attaches to the job in flight; the worker computes once', async () => {
    const jobs = await computed('uncached');
    await admin('pause', 'uncached');
    const headers = { 'idempotency-key': 'order-1' };
    const body = x([2, 4, 6, 8]);
    const original = request(`${stack.apiUrls[0]}/v2/models/uncached/infer`, { body, headers });
    await waitFor('the job to be queued', async () => {
      const { counts } = (await request(`${gw}/admin/models/uncached`)).body;
      return counts.waiting + counts.prioritized + counts.paused === 1;
    });
    const attached = await attachedRetries(stack.redisUrl);
    const retry = request(`${stack.apiUrls[1]}/v2/models/uncached/infer`, { body, headers });
    await waitFor('the retry to attach to the job', async () => (await attachedRetries(stack.redisUrl)) > attached);
    await admin('resume', 'uncached');
    const [a, b] = await Promise.all([original, retry]);
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.deepEqual(b.body.outputs, a.body.outputs);
    assert.deepEqual(a.body.outputs[0].data, [5, 9, 13, 17]);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    assert.equal(a.headers.get('idempotent-replayed'), null);
    // After completion, a third replica answers from the stored result.
    const late = await request(`${stack.apiUrls[2]}/v2/models/uncached/infer`, { body, headers });
    assert.equal(late.status, 200);
    assert.equal(late.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(late.body.outputs, a.body.outputs);
    assert.equal(await computed('uncached'), jobs + 1, 'one computation for three requests');
  });

  test('an idempotent request the cache answers keeps that answer for its key: a retry elsewhere replays it', async () => {
    const body = x([7, 5, 3, 1]);
    assert.equal((await request(`${gw}/v2/models/affine/infer`, { body })).status, 200); // computed, now cached
    const jobs = await computed('affine');
    const headers = { 'idempotency-key': 'cached-1' };
    const hit = await request(`${stack.apiUrls[0]}/v2/models/affine/infer`, { body, headers });
    assert.equal(hit.headers.get('x-cache'), 'hit');
    const retry = await request(`${stack.apiUrls[1]}/v2/models/affine/infer`, { body, headers });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(retry.body.outputs, hit.body.outputs);
    assert.equal(await computed('affine'), jobs, 'computed once, before the key was used');
  });

  test('the same key with a different request is refused with 409; parameters.idempotency_key is a key too', async () => {
    const headers = { 'idempotency-key': 'order-2' };
    assert.equal((await request(`${gw}/v2/models/uncached/infer`, { body: x([1, 0, 0, 0]), headers })).status, 200);
    const other = await request(`${gw}/v2/models/uncached/infer`, { body: x([0, 1, 0, 0]), headers });
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'conflict');
    assert.match(other.body.error, /idempotency key 'order-2' was already used for a different request/);
    const keyed = (row: number[]) => ({ id: 'req-77', ...x(row), parameters: { idempotency_key: 'order-77' } });
    assert.equal((await request(`${gw}/v2/models/uncached/infer`, { body: keyed([3, 0, 0, 0]) })).status, 200);
    const reused = await request(`${stack.apiUrls[1]}/v2/models/uncached/infer`, { body: keyed([4, 0, 0, 0]) });
    assert.equal(reused.status, 409);
    const replay = await request(`${stack.apiUrls[2]}/v2/models/uncached/infer`, { body: keyed([3, 0, 0, 0]) });
    assert.equal(replay.status, 200);
    assert.equal(replay.body.id, 'req-77');
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  });
});
