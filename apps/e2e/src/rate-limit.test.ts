import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { requestFrom } from './from-address.js';
import { metricSum, request, type JsonResponse } from './http.js';
import { modelRepository } from './repository.js';

/**
 * Rate limits are counted in Redis, so three replicas together admit what one key is allowed,
 * not three times as much; failed authentications are limited per client address, which the
 * replicas learn from nginx (TRUST_PROXY=1), not from the connection (which is nginx's).
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
const requestsPerReplica = async () => Promise.all(stack.apiUrls.map(async (u) => metricSum((await request(`${u}/metrics`)).text, 'tessera_http_requests_total')));

describe('per-key rate limit', () => {
  test('one limit across all three replicas (within 10%), with draft-8 headers and Retry-After', async () => {
    const limit = 60;
    const { key } = await createApiKey({ redisUrl: stack.redisUrl, name: 'limited', rateLimit: limit });
    const before = await requestsPerReplica();
    const statuses: number[] = [];
    let limited: JsonResponse | undefined;
    let admitted: JsonResponse | undefined;
    for (let wave = 0; wave < 15; wave++) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => request(`${gw}/v2/models/affine`, { headers: bearer(key) })));
      for (const a of answers) {
        statuses.push(a.status);
        if (a.status === 429) limited ??= a;
        else admitted ??= a;
      }
    }
    const ok = statuses.filter((s) => s === 200).length;
    assert.equal(ok + statuses.filter((s) => s === 429).length, 150, `only 200 and 429: ${statuses}`);
    assert.ok(Math.abs(ok - limit) <= limit * 0.1, `${ok} requests admitted for a limit of ${limit}`);
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

describe('the client address behind nginx', () => {
  test('failed authentications are limited per client address, not per nginx', async () => {
    const bad = { authorization: `Bearer tsk_000000000000_${'C'.repeat(43)}` };
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await requestFrom('127.0.0.7', `${gw}/v2/models/affine`, { headers: bad })).status);
    assert.deepEqual(statuses, [...new Array(20).fill(401), 429]);
    const blocked = await requestFrom('127.0.0.7', `${gw}/v2/models/affine`, { headers: bad });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    assert.match(blocked.body.error, /too many failed authentications from 127\.0\.0\.7/);
    // A spoofed X-Forwarded-For does not help: nginx appends the real address, the replica trusts one hop.
    const spoofed = await requestFrom('127.0.0.7', `${gw}/v2/models/affine`, { headers: { ...bad, 'x-forwarded-for': '10.1.2.3' } });
    assert.equal(spoofed.status, 429);
    // Another client, through the same nginx, is not affected.
    assert.equal((await requestFrom('127.0.0.8', `${gw}/v2/models/affine`, { headers: bad })).status, 401);
  });

  test('req.ip is the client, as whoami shows', async () => {
    const { key } = await createApiKey({ redisUrl: stack.redisUrl, name: 'whoami' });
    const res = await requestFrom('127.0.0.9', `${gw}/whoami`, { headers: bearer(key) });
    assert.equal(res.status, 200);
    assert.equal(res.body.ip, '127.0.0.9');
    const spoofed = await requestFrom('127.0.0.9', `${gw}/whoami`, { headers: { ...bearer(key), 'x-forwarded-for': '10.9.9.9' } });
    assert.equal(spoofed.body.ip, '127.0.0.9', 'the address nginx saw, not the one the client claims');
  });
});
