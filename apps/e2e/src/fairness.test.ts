import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { request, waitFor } from './http.js';
import { renderText } from './images.js';
import { modelRepository } from './repository.js';

/**
 * No request makes others pay for it: pipeline requests are charged per inference call, one key
 * cannot take a model's whole queue, cache entries are per key, and a 300-dpi scan is read (shrunk
 * on load) rather than refused.
 */
let stack: Stack;
let gw: string;

before(async () => {
  // A key may hold 1 % of a model's queue cap: 40 of affine's 4096 items.
  stack = await startStack({
    replicas: 1,
    workers: 1,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-fairness-')),
    env: { LOG_LEVEL: 'warn', KEY_QUEUE_SHARE_PERCENT: '1' },
  });
  gw = stack.gatewayUrl;
});

after(async () => {
  await stack?.stop();
});

const key = async (name: string, extra: { rateLimit?: number; scopes?: string[] } = {}) => {
  const created = await createApiKey({
    redisUrl: stack.redisUrl,
    name,
    scopes: extra.scopes ?? ['infer'],
    ...(extra.rateLimit ? { rateLimit: extra.rateLimit } : {}),
  });
  return { authorization: `Bearer ${created.key}` };
};
const rows = (n: number, seed: number) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [n, 4], data: Array.from({ length: 4 * n }, (_, i) => seed + i) }],
});
const infer = (headers: Record<string, string>, body: object) =>
  request(`${gw}/v2/models/affine/infer`, { body, headers });

test('a pipeline request is charged for every inference call it makes', async () => {
  const lines = ['Invoice 2026', 'Total 4711.50', 'Queue depth 64', 'Batch size 32'].map((l) =>
    renderText([l]).toString('base64'),
  );
  const four = await key('four-calls', { rateLimit: 10 });
  const ok = await request(`${gw}/predict`, { body: { model: 'ocr-line', images: lines }, headers: four });
  assert.equal(ok.status, 200, ok.text);
  assert.match(ok.headers.get('ratelimit')!, /"10-in-1min"; r=6;/, 'four calls counted, not one');
  const three = await key('three-calls', { rateLimit: 3 });
  const over = await request(`${gw}/predict`, { body: { model: 'ocr-line', images: lines }, headers: three });
  assert.equal(over.status, 429, over.text);
  assert.equal(over.body.code, 'rate_limited');
});

test('cache entries are per key: another key neither gets a hit nor learns what was asked', async () => {
  const [a, b] = [await key('cache-a'), await key('cache-b')];
  const body = rows(1, 1000);
  assert.equal((await infer(a, body)).headers.get('x-cache'), 'miss');
  assert.equal((await infer(a, body)).headers.get('x-cache'), 'hit');
  assert.equal((await infer(b, body)).headers.get('x-cache'), 'miss', 'the other key computes its own');
  assert.equal((await infer(b, body)).headers.get('x-cache'), 'hit');
});

test('one key cannot fill a model queue: past its share it gets 429, and other keys still get in', async () => {
  const ops = await key('ops', { scopes: ['admin'] });
  const [greedy, other] = [await key('greedy'), await key('other')];
  assert.equal((await request(`${gw}/admin/models/affine/pause`, { method: 'POST', headers: ops })).status, 200);
  try {
    const held = infer({ ...greedy, 'cache-control': 'no-cache' }, rows(40, 1));
    await waitFor(
      'the 40 items to be queued',
      async () => (await request(`${gw}/admin/models/affine`, { headers: ops })).body.in_flight_items === 40,
    );
    const refused = await infer({ ...greedy, 'cache-control': 'no-cache' }, rows(1, 2));
    assert.equal(refused.status, 429, refused.text);
    assert.match(
      refused.body.error,
      /this API key already has 40 items queued or running, its share of the model's queue/,
    );
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    const admitted = infer({ ...other, 'cache-control': 'no-cache' }, rows(1, 3));
    await waitFor(
      'the other key to be queued',
      async () => (await request(`${gw}/admin/models/affine`, { headers: ops })).body.in_flight_items === 41,
    );
    assert.equal((await request(`${gw}/admin/models/affine/resume`, { method: 'POST', headers: ops })).status, 200);
    assert.deepEqual([(await held).status, (await admitted).status], [200, 200]);
  } finally {
    await request(`${gw}/admin/models/affine/resume`, { method: 'POST', headers: ops });
  }
});

test('a 300-dpi A4 scan (2480 x 3508 JPEG) is read, shrunk on load, with its boxes in the page pixels', async () => {
  const text = ['Invoice number 2026', 'Total amount 4711.50', 'Queue depth 64', 'Batch size 32', 'Thank you'];
  const page = renderText(text, { width: 2480, height: 3508, size: 50, lineHeight: 150, format: 'jpeg' });
  const res = await request(`${gw}/predict`, {
    body: { model: 'ocr', images: [page.toString('base64')] },
    headers: await key('scanner'),
  });
  assert.equal(res.status, 200, res.text);
  const found = res.body.results[0] as { text: string; box: number[][] }[];
  assert.deepEqual(
    found.map((l) => l.text.replace(/\s+/g, '')),
    text.map((l) => l.replace(/\s+/g, '')),
  );
  const last = found.at(-1)!.box;
  assert.ok(
    last[2]![1]! > 600 && last[2]![1]! < 900,
    `the last line's box is in the page's own pixels: ${JSON.stringify(last)}`,
  );
});
