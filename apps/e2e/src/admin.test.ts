import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { queuedItems } from './redis-state.js';
import { cli } from './cli.js';
import { customRepository } from './custom-repository.js';
import { request, waitFor } from './http.js';

/** Operators: the queue dashboard (admin keys only, read-only, tensor values redacted) and pause / resume / drain. */
let stack: Stack;
let gw: string;
let admin: Record<string, string>;
let client: Record<string, string>;

before(async () => {
  const repo = await customRepository({ affine: { from: 'affine', config: { cache: { enabled: false } } } });
  stack = await startStack({
    replicas: 2,
    modelRepository: repo,
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-admin-')),
    env: { LOG_LEVEL: 'warn', DEFAULT_MODEL: 'affine' },
  });
  gw = stack.gatewayUrl;
  admin = {
    authorization: `Bearer ${(await createApiKey({ redisUrl: stack.redisUrl, name: 'operator', scopes: ['admin'] })).key}`,
  };
  client = {
    authorization: `Bearer ${(await createApiKey({ redisUrl: stack.redisUrl, name: 'client', scopes: ['infer'] })).key}`,
  };
});

after(async () => {
  await stack?.stop();
});

/** The login form's POST, as a browser on the login page sends it. */
const login = (base: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers },
    body,
  });

const x = (v: number) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [v, v, v, v] }] });
const queued = async () => {
  const { counts } = (await request(`${gw}/admin/models/affine`, { headers: admin })).body;
  return counts.waiting + counts.prioritized + counts.paused;
};

describe('queue dashboard', () => {
  test('only admin keys see it; a browser signs in with a POST of the key and gets an opaque session cookie', async () => {
    assert.equal((await request(`${gw}/admin/queues`)).status, 401);
    assert.equal((await request(`${gw}/admin/queues`, { headers: client })).status, 403);
    const page = await request(`${gw}/admin/queues`, { headers: admin });
    assert.equal(page.status, 200);
    assert.match(page.text, /<title>Tessera queues<\/title>/);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);

    const form = await request(`${gw}/admin/login`);
    assert.equal(form.status, 200);
    assert.match(form.text, /<form method="post" action="\/admin\/login">/);
    const key = admin.authorization!.slice('Bearer '.length);
    const signedIn = await login(gw, `key=${encodeURIComponent(key)}`);
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.get('location'), '/admin/queues/');
    const setCookie = signedIn.headers.get('set-cookie')!;
    assert.match(
      setCookie,
      /^tessera_session=[A-Za-z0-9_-]{43}; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=3600$/,
      'no Secure over plain http',
    );
    assert.ok(!setCookie.includes(key.slice(17)), 'the cookie is a session id, not the key');
    const cookie = { cookie: setCookie.split(';')[0]! };
    assert.equal((await request(`${gw}/admin/queues/api/queues`, { headers: cookie })).status, 200);
    assert.equal(
      (await request(`${gw}/v2/models/affine`, { headers: cookie })).status,
      401,
      'the session opens /admin only',
    );
    const inUrl = await request(`${gw}/admin/queues?token=${encodeURIComponent(key)}`);
    assert.equal(inUrl.status, 400, 'a key in the query string opens nothing: the gateway refuses it');
    assert.equal(inUrl.body.code, 'bad_request');
    assert.equal(
      (await request(`${stack.apiUrls[0]}/admin/queues?token=${encodeURIComponent(key)}`)).status,
      401,
      'nor does it at a replica',
    );

    // Over HTTPS, as a trusted proxy reports it, the cookie is Secure.
    const secure = await login(stack.apiUrls[0]!, `key=${encodeURIComponent(key)}`, { 'x-forwarded-proto': 'https' });
    assert.match(secure.headers.get('set-cookie')!, /; Secure$/);
    // Only admin keys, only from the login page itself.
    assert.equal((await login(gw, `key=${encodeURIComponent(client.authorization!.slice(7))}`)).status, 403);
    assert.equal((await login(gw, 'key=tsk_000000000000_' + 'A'.repeat(43))).status, 401);
    assert.equal((await login(gw, `key=${encodeURIComponent(key)}`, { 'sec-fetch-site': 'cross-site' })).status, 403);
  });

  test('a request signed in by the session cookie must come from the dashboard and be JSON', async () => {
    const key = admin.authorization!.slice('Bearer '.length);
    const cookie = (await login(gw, `key=${encodeURIComponent(key)}`)).headers.get('set-cookie')!.split(';')[0]!;
    const pause = (headers: Record<string, string>, body?: string) =>
      fetch(`${gw}/admin/models/affine/pause`, {
        method: 'POST',
        headers: { cookie, ...headers },
        ...(body !== undefined ? { body } : {}),
      });
    assert.equal(
      (await pause({ 'content-type': 'application/json' }, '{}')).status,
      403,
      'neither Origin nor Sec-Fetch-Site',
    );
    assert.equal(
      (await pause({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, '{}')).status,
      403,
    );
    assert.equal(
      (await pause({ 'content-type': 'application/json', origin: 'http://evil.example' }, '{}')).status,
      403,
    );
    assert.equal(
      (await pause({ 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' }, ''))
        .status,
      415,
      'a form post (no JSON) is refused',
    );
    assert.equal((await pause({ 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain' }, '{}')).status, 415);
    assert.equal((await pause({ 'content-type': 'application/json', origin: gw }, '{}')).status, 200);
    // The dashboard's own actions send no body and no type (bull-board's PUTs).
    assert.equal((await pause({ 'sec-fetch-site': 'same-origin' })).status, 200);
    assert.equal(
      (await request(`${gw}/admin/models/affine/resume`, { method: 'POST', headers: admin })).status,
      200,
      'a bearer key needs neither',
    );
    const out = await fetch(`${gw}/admin/logout`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: '{}',
    });
    assert.equal(out.status, 204);
    assert.match(
      out.headers.get('set-cookie')!,
      /^tessera_session=; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=0/,
    );
    assert.equal(
      (await request(`${gw}/admin/queues/api/queues`, { headers: { cookie } })).status,
      401,
      'the session ended',
    );
  });

  test('read-only, and jobs show tensor shapes and sizes, never values', async () => {
    assert.equal((await request(`${gw}/v2/models/affine/infer`, { body: x(7), headers: client })).status, 200);
    // The reply reaches the client just before BullMQ marks the job completed.
    const queue = await waitFor('the completed job to be listed', async () => {
      const res = await request(`${gw}/admin/queues/api/queues?activeQueue=infer.affine&status=completed&page=1`, {
        headers: admin,
      });
      const q = res.body?.queues?.find((entry: { name: string }) => entry.name === 'infer.affine');
      return q?.jobs?.length ? q : undefined;
    });
    assert.equal(queue.readOnlyMode, true);
    const job = queue.jobs[0];
    const shown = JSON.stringify(queue.jobs);
    assert.deepEqual(
      job.data.requests.map((r: { inputs: unknown }) => r.inputs),
      [[{ name: 'x', datatype: 'FP32', shape: [1, 4], bytes: 16 }]],
      shown,
    );
    // The field name, quoted: a bare 'b64' also turns up inside random hex ids now and then.
    assert.ok(!JSON.stringify(job).includes('"b64"'), 'no tensor bytes in the dashboard');
    const [outcome] = Object.values(job.returnValue?.requests ?? {}) as { result?: { outputs: { name: string }[] } }[];
    assert.deepEqual(
      outcome?.result?.outputs.map((o) => o.name),
      ['y', 'sum'],
      shown,
    );
    const clean = await request(`${gw}/admin/queues/api/queues/infer.affine/clean/completed`, {
      method: 'PUT',
      headers: admin,
    });
    assert.ok(clean.status >= 400, `a read-only board refuses changes (got ${clean.status})`);
  });
});

describe('pause, resume, drain', () => {
  test('pause holds jobs, resume runs them; admin scope only', async () => {
    assert.equal((await request(`${gw}/admin/models/affine/pause`, { method: 'POST', headers: client })).status, 403);
    const paused = await request(`${gw}/admin/models/affine/pause`, { method: 'POST', headers: admin });
    assert.equal(paused.status, 200, paused.text);
    assert.equal(paused.body.paused, true);
    const held = request(`${gw}/v2/models/affine/infer`, { body: x(1), headers: client });
    await waitFor('the job to be queued', async () => (await queued()) === 1);
    const resumed = await request(`${gw}/admin/models/affine/resume`, { method: 'POST', headers: admin });
    assert.equal(resumed.body.paused, false);
    assert.equal((await held).status, 200);
    assert.equal((await request(`${gw}/admin/models/nope/pause`, { method: 'POST', headers: admin })).status, 404);
  });

  test('drain removes queued jobs and answers their clients at once with 503', async () => {
    await request(`${gw}/admin/models/affine/pause`, { method: 'POST', headers: admin });
    const waiting = Array.from({ length: 3 }, (_, i) =>
      request(`${gw}/v2/models/affine/infer`, { body: x(10 + i), headers: client }),
    );
    // Requests that reach one replica together may share a job: count admitted items instead.
    await waitFor(
      '3 requests to be admitted',
      async () => (await request(`${gw}/admin/models/affine`, { headers: admin })).body.in_flight_items === 3,
    );
    await waitFor(
      'every admitted item to be in a queued job',
      async () => (await queuedItems(stack.redisUrl, 'affine')) === 3,
    );
    const drained = await request(`${gw}/admin/models/affine/drain`, { method: 'POST', headers: admin });
    assert.equal(drained.status, 200, drained.text);
    assert.equal(drained.body.removed, 3);
    // 503 from the drain, not the 504 their deadlines would have given them.
    for (const res of await Promise.all(waiting)) {
      assert.equal(res.status, 503);
      assert.match(res.body.error, /drained by an operator/);
    }
    await waitFor(
      'the queue cap to be free',
      async () => (await request(`${gw}/admin/models/affine`, { headers: admin })).body.in_flight_items === 0,
    );
    await request(`${gw}/admin/models/affine/resume`, { method: 'POST', headers: admin });
  });

  test('the queues CLI does the same', async () => {
    const paused = JSON.parse((await cli('queues', ['pause', 'affine'], stack.redisUrl)).stdout);
    assert.equal(paused.paused, true);
    const held = request(`${gw}/v2/models/affine/infer`, { body: x(20), headers: client });
    await waitFor('the job to be queued', async () => (await queued()) === 1);
    const status = JSON.parse((await cli('queues', ['status', 'affine'], stack.redisUrl)).stdout);
    assert.equal(status.in_flight_items, 1);
    assert.equal(JSON.parse((await cli('queues', ['drain', 'affine'], stack.redisUrl)).stdout).removed, 1);
    assert.equal((await held).status, 503);
    assert.equal(JSON.parse((await cli('queues', ['resume', 'affine'], stack.redisUrl)).stdout).paused, false);
    assert.equal((await request(`${gw}/v2/models/affine/infer`, { body: x(21), headers: client })).status, 200);
  });
});

describe('secrets stay out of the logs', () => {
  test('no key, session id or token-like parameter appears in any log file, whatever its encoding', async () => {
    const key = admin.authorization!.slice('Bearer '.length);
    const session = (await login(gw, `key=${encodeURIComponent(key)}`)).headers
      .get('set-cookie')!
      .split(';')[0]!
      .split('=')[1]!;
    const secrets = [key, key.slice(17), session, encodeURIComponent(key)];
    const queries = [
      `token=${key}`,
      `%74oken=${key}`,
      `t%6Fken=${encodeURIComponent(key)}`,
      `key=${key}`,
      `session=${session}`,
      `a=1&access_token=${key}`,
      key,
      `x=${encodeURIComponent(key).replace(/_/g, '%5F')}`,
    ];
    const paths = ['/admin/queues', '/v2/models/affine', '/predict', '/nowhere'];
    let sent = 0;
    for (const base of [gw, ...stack.apiUrls]) {
      for (const p of paths) {
        for (const q of queries) {
          // Without credentials: each is refused and logged (4xx lines are written at LOG_LEVEL=warn).
          await fetch(`${base}${p}?${q}`, { headers: { 'x-request-id': `logcheck-${sent++}` }, redirect: 'manual' });
        }
      }
      await fetch(`${base}/v2/models/${key}`, { headers: { 'x-request-id': `logcheck-${sent++}` } });
    }
    const logs = () =>
      readdirSync(stack.logDir).map((f) => ({ file: f, text: readFileSync(path.join(stack.logDir, f), 'utf8') }));
    // Every request is in nginx's access log or a replica's before the logs are searched.
    await waitFor('every request to be logged', async () =>
      Array.from({ length: sent }, (_, i) => `logcheck-${i}"`).every((id) => logs().some((l) => l.text.includes(id))),
    );
    for (const { file, text } of logs()) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `${file} contains a secret`);
      assert.doesNotMatch(text, /tsk_[0-9a-f]{12}_[A-Za-z0-9_-]{8}/, `${file} contains something shaped like a key`);
    }
  });
});
