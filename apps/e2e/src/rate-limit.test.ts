import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createApiKey, startStack, waitFor, type Stack } from '@tessera/topology';
import { requestFrom } from './from-address.js';
import { metricSum, request, type JsonResponse } from './http.js';
import { modelRepository } from './repository.js';

/**
 * Rate limits are counted in Redis, so three replicas together admit what one key is allowed,
 * not three times as much; failed authentications are limited per client address, which the
 * replicas learn from nginx (TRUST_PROXY=loopback), not from the connection (which is nginx's).
 */
let stack: Stack;
let gw: string;

before(async () => {
  stack = await startStack({
    replicas: 3,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-limits-')),
    env: { LOG_LEVEL: 'warn', RATE_LIMIT: '500', AUTH_FAILURE_LIMIT: '20' },
  });
  gw = stack.gatewayUrl;
});

after(async () => {
  await stack?.stop();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const requestsPerReplica = async () =>
  Promise.all(stack.apiMetricsUrls.map(async (u) => metricSum((await request(u)).text, 'tessera_http_requests_total')));

describe('per-key rate limit', () => {
  test('one exact limit across all three replicas, with draft-8 headers and Retry-After', async () => {
    const limit = 60;
    const { key } = await createApiKey({ redisUrl: stack.redisUrl, name: 'limited', rateLimit: limit });
    const before = await requestsPerReplica();
    const statuses: number[] = [];
    let limited: JsonResponse | undefined;
    let admitted: JsonResponse | undefined;
    for (let wave = 0; wave < 15; wave++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => request(`${gw}/v2/models/affine`, { headers: bearer(key) })),
      );
      for (const a of answers) {
        statuses.push(a.status);
        if (a.status === 429) limited ??= a;
        else admitted ??= a;
      }
    }
    const ok = statuses.filter((s) => s === 200).length;
    assert.equal(ok + statuses.filter((s) => s === 429).length, 150, `only 200 and 429: ${statuses}`);
    // Counted in one Redis counter by every replica: exactly the limit passes.
    assert.equal(ok, limit, `requests admitted for a limit of ${limit}: ${statuses}`);
    const after = await requestsPerReplica();
    const served = after.map((n, i) => n - before[i]!);
    for (const n of served) assert.ok(n > 10, `every replica took part: ${served}`);

    assert.match(admitted!.headers.get('ratelimit-policy')!, /^"60-in-1min"; q=60; w=60/);
    assert.match(admitted!.headers.get('ratelimit')!, /^"60-in-1min"; r=\d+; t=\d+/);
    assert.equal(limited!.body.code, 'rate_limited');
    assert.match(limited!.body.error, /rate limit exceeded: API key 'limited' may send 60 requests per 60 s/);
    assert.ok(Number(limited!.headers.get('retry-after')) > 0, 'Retry-After on 429');
    assert.match(limited!.headers.get('ratelimit')!, /r=0/);
  });

  test('keys without their own limit get RATE_LIMIT, each key counted apart', async () => {
    const { key } = await createApiKey({ redisUrl: stack.redisUrl, name: 'default-limit' });
    const res = await request(`${gw}/v2/models/affine`, { headers: bearer(key) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('ratelimit-policy')!, /q=500/);
    assert.match(res.headers.get('ratelimit')!, /r=499/, 'the exhausted key above does not count against this one');
  });
});

/** An affine inference whose input differs per call (the response cache never answers it). */
let n = 0;
const infer = (key: string) =>
  request(`${gw}/v2/models/affine/infer`, {
    body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [n, n, n, ++n] }] },
    headers: bearer(key),
  });

describe('inference counted with its admission', () => {
  test('one exact limit across the replicas, shared with the other routes, with the same headers', async () => {
    const limit = 40;
    const { key } = await createApiKey({ redisUrl: stack.redisUrl, name: 'infer-limited', rateLimit: limit });
    const before = await requestsPerReplica();
    const answers: JsonResponse[] = [];
    for (let wave = 0; wave < 6; wave++)
      answers.push(...(await Promise.all(Array.from({ length: 10 }, () => infer(key)))));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 200).length, limit, `exactly the limit is served: ${statuses}`);
    assert.equal(statuses.filter((s) => s === 429).length, 60 - limit, `the rest is refused: ${statuses}`);
    const served = (await requestsPerReplica()).map((v, i) => v - before[i]!);
    for (const v of served) assert.ok(v > 5, `every replica took part: ${served}`);

    const ok = answers.find((a) => a.status === 200)!;
    assert.match(ok.headers.get('ratelimit-policy')!, /^"40-in-1min"; q=40; w=60; pk=:[A-Za-z0-9+/=]+:$/);
    assert.match(ok.headers.get('ratelimit')!, /^"40-in-1min"; r=\d+; t=\d+$/);
    assert.ok(Array.isArray(ok.body.outputs), 'a counted request is served as usual');
    const refused = answers.filter((a) => a.status === 429);
    for (const r of refused) {
      assert.equal(r.body.code, 'rate_limited');
      assert.match(r.body.error, /rate limit exceeded: API key 'infer-limited' may send 40 requests per 60 s/);
      assert.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After on 429');
      assert.match(r.headers.get('ratelimit')!, /r=0; t=\d+/);
    }
    // The metadata route counts against the same limit, through express-rate-limit: the same policy header.
    const meta = await request(`${gw}/v2/models/affine`, { headers: bearer(key) });
    assert.equal(meta.status, 429);
    assert.equal(meta.headers.get('ratelimit-policy'), ok.headers.get('ratelimit-policy'));
  });

  test('requests that never reach the queue are counted too, once answered', async () => {
    const { key, id } = await createApiKey({ redisUrl: stack.redisUrl, name: 'bad-bodies', rateLimit: 3 });
    const redis = new Redis(stack.redisUrl);
    try {
      for (let i = 0; i < 3; i++) {
        const bad = await request(`${gw}/v2/models/affine/infer`, {
          body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1] }] },
          headers: bearer(key),
        });
        assert.equal(bad.status, 400, 'a bad body is answered as such while under the limit');
      }
      // Counted once the answer was sent, without holding it.
      const counter = `tessera:ratelimit:key:${id}`;
      await waitFor(`three counts in ${counter}`, async () => Number(await redis.get(counter)) >= 3, {
        intervalMs: 20,
      });
      const next = await infer(key);
      assert.equal(next.status, 429, 'the fourth request is over the limit');
      assert.equal(Number(await redis.get(counter)), 4, 'each request counted once');
    } finally {
      redis.disconnect();
    }
  });
});

describe('the client address behind nginx', () => {
  test('failed authentications are limited per client address, not per nginx', async () => {
    const bad = { authorization: `Bearer tsk_000000000000_${'C'.repeat(43)}` };
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++)
      statuses.push((await requestFrom('127.0.0.7', `${gw}/v2/models/affine`, { headers: bad })).status);
    assert.deepEqual(statuses, [...new Array(20).fill(401), 429]);
    const blocked = await requestFrom('127.0.0.7', `${gw}/v2/models/affine`, { headers: bad });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    assert.match(blocked.body.error, /too many failed authentications from 127\.0\.0\.7/);
    // A spoofed X-Forwarded-For does not help: nginx replaces it with the address it saw.
    const spoofed = await requestFrom('127.0.0.7', `${gw}/v2/models/affine`, {
      headers: { ...bad, 'x-forwarded-for': '10.1.2.3' },
    });
    assert.equal(spoofed.status, 429);
    // Another client, through the same nginx, is not affected.
    assert.equal((await requestFrom('127.0.0.8', `${gw}/v2/models/affine`, { headers: bad })).status, 401);
  });

  test('req.ip is the client, as whoami shows', async () => {
    const { key } = await createApiKey({ redisUrl: stack.redisUrl, name: 'whoami' });
    const res = await requestFrom('127.0.0.9', `${gw}/whoami`, { headers: bearer(key) });
    assert.equal(res.status, 200);
    assert.equal(res.body.ip, '127.0.0.9');
    const spoofed = await requestFrom('127.0.0.9', `${gw}/whoami`, {
      headers: { ...bearer(key), 'x-forwarded-for': '10.9.9.9' },
    });
    assert.equal(spoofed.body.ip, '127.0.0.9', 'the address nginx saw, not the one the client claims');
  });
});
