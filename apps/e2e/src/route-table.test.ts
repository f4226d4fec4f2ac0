import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { cli } from './cli.js';
import { modelRepository } from './repository.js';
import { concretePaths, spellings } from './spellings.js';

/**
 * Deny by default, proven from the API's own route table (`routes --json`, read from Express's
 * router stack, so a route added later is covered without touching this file): every protected
 * route, in every spelling and with HEAD and OPTIONS, without a key, with a bad key, with a key
 * lacking the scope or the model, never reaches its handler. Through nginx, as a client sends it.
 */
interface RouteEntry {
  method: string;
  path: string;
  access: string;
}

const PUBLIC = [
  'GET /live',
  'GET /ready',
  'GET /health',
  'GET /v2/health/live',
  'GET /v2/health/ready',
  'GET /admin/login',
  'POST /admin/login',
  'GET /v2/openapi.json',
  'GET /docs',
  'GET /docs/swagger-ui.css',
  'GET /docs/swagger-ui-bundle.js',
  'GET /docs/swagger-init.js',
  'GET /docs/try',
  'GET /docs/try.js',
];
const PARAMS = { name: 'affine', version: '1', default: 'affine' };
const BAD_KEY = `tsk_000000000000_${'A'.repeat(43)}`;

let stack: Stack;
let routes: RouteEntry[];
const keys: Record<'infer' | 'admin' | 'all' | 'otherModel', string> = {
  infer: '',
  admin: '',
  all: '',
  otherModel: '',
};

before(async () => {
  const repo = await modelRepository();
  // No worker: no handler may be reached, so none needs one. Failed keys are not limited here,
  // so that every bad-key request is answered 401 rather than 429 (the limit has its own test).
  stack = await startStack({
    replicas: 1,
    workers: 0,
    waitForReady: false,
    modelRepository: repo,
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-routes-')),
    env: { LOG_LEVEL: 'warn', AUTH_FAILURE_LIMIT: '0' },
  });
  const make = async (name: string, scopes: string[], models?: string[]) =>
    (await createApiKey({ redisUrl: stack.redisUrl, name, scopes, ...(models ? { models } : {}) })).key;
  keys.infer = await make('infer-only', ['infer']);
  keys.admin = await make('admin-only', ['admin']);
  keys.all = await make('everything', ['infer', 'admin']);
  keys.otherModel = await make('other-model', ['infer', 'admin'], ['token-sum']);
  routes = JSON.parse(
    (await cli('routes', ['--json'], stack.redisUrl, { MODEL_REPOSITORY: repo })).stdout,
  ) as RouteEntry[];
});

after(async () => {
  await stack?.stop();
});

/** Many requests at once over keep-alive connections; returns the status and body of each. */
async function sendAll(cases: { method: string; path: string; key?: string }[], concurrency = 32) {
  const results: { method: string; path: string; key?: string; status: number; text: string }[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i]!;
      const res = await fetch(`${stack.gatewayUrl}${c.path}`, {
        method: c.method,
        headers: c.key ? { authorization: `Bearer ${c.key}` } : {},
      });
      results.push({ ...c, status: res.status, text: await res.text() });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

test('the route table: only the probes are public, nothing is open', () => {
  assert.ok(routes.length >= 15, `the table lists the app's routes (${routes.length})`);
  assert.deepEqual(
    routes.filter((r) => r.access === 'open'),
    [],
    'every route is public on purpose or behind authentication',
  );
  assert.deepEqual(
    routes
      .filter((r) => r.access === 'public')
      .map((r) => `${r.method} ${r.path}`)
      .sort(),
    [...PUBLIC].sort(),
  );
});

test('/v2/openapi.json documents exactly these routes, each with its access; only public ones need no key', async () => {
  const doc = (await (await fetch(`${stack.gatewayUrl}/v2/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { 'x-access': string; security?: unknown[] }>>;
    security: unknown;
  };
  const method = (r: RouteEntry) => (r.method === '*' ? 'get' : r.method.toLowerCase());
  const template = (r: RouteEntry) => r.path.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{page}');
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
  assert.deepEqual(documented.sort(), routes.map((r) => `${method(r)} ${template(r)}`).sort());
  for (const r of routes) {
    const op = doc.paths[template(r)]![method(r)]!;
    assert.equal(op['x-access'], r.access, `${r.method} ${r.path}`);
    assert.equal(
      op.security?.length === 0,
      r.access === 'public',
      `${r.method} ${r.path}: security ${JSON.stringify(op.security)}`,
    );
  }
  assert.deepEqual(doc.security, [{ bearer: [] }]);
});

test('a right key passes each guard (so the refusals below are the guards at work)', async () => {
  const cases = routes
    .filter((r) => r.access !== 'public')
    .flatMap((r) =>
      concretePaths(r.path, PARAMS).map((p) => ({
        method: r.method === '*' ? 'GET' : r.method,
        path: p,
        key: keys.all,
      })),
    );
  for (const r of await sendAll(cases))
    assert.ok(
      ![401, 403].includes(r.status),
      `${r.method} ${r.path} with a key holding every scope: ${r.status} ${r.text}`,
    );
});

test('every protected route, in every spelling: without a key, with a bad key, lacking the scope or the model, never 2xx or 5xx', async () => {
  const cases: { method: string; path: string; key?: string }[] = [];
  for (const route of routes.filter((r) => r.access !== 'public')) {
    const lacking = route.access === 'infer' ? keys.admin : route.access === 'admin' ? keys.infer : undefined;
    const credentials = [undefined, BAD_KEY, ...(lacking ? [lacking] : [])];
    const method = route.method === '*' ? 'GET' : route.method;
    for (const canonical of concretePaths(route.path, PARAMS)) {
      for (const p of [canonical, ...spellings(canonical)]) {
        for (const m of [method, 'HEAD', 'OPTIONS'])
          for (const key of credentials) cases.push({ method: m, path: p, ...(key ? { key } : {}) });
        // A key limited to another model: refused wherever a model is named, and no other
        // spelling of the path finds the handler either.
        if (route.path.includes(':name') && route.access === 'infer')
          cases.push({ method, path: p, key: keys.otherModel });
      }
    }
  }
  const results = await sendAll(cases);
  assert.equal(results.length, cases.length);
  const wrong = results.filter((r) => ![401, 403, 404].includes(r.status));
  assert.deepEqual(
    wrong
      .slice(0, 10)
      .map(
        (r) =>
          `${r.method} ${r.path} (${r.key === undefined ? 'no key' : r.key === BAD_KEY ? 'bad key' : 'valid key'}): ${r.status} ${r.text.slice(0, 120)}`,
      ),
    [],
    `${wrong.length} of ${results.length} requests were not refused`,
  );
  for (const r of results.filter((x) => x.method !== 'HEAD')) {
    const body = JSON.parse(r.text) as { code?: string };
    assert.ok(['unauthorized', 'forbidden', 'not_found'].includes(body.code ?? ''), `${r.method} ${r.path}: ${r.text}`);
    if (r.key === undefined || r.key === BAD_KEY)
      assert.equal(r.status, 401, `${r.method} ${r.path} without a valid key: ${r.text}`);
  }
});

test('routing is exact: with a key holding every scope, every other spelling of a route is 404', async () => {
  // Mounted handlers (the dashboard) route below their own prefix as they please, behind the guard.
  const cases = routes
    .filter((r) => r.access !== 'public' && r.method !== '*')
    .flatMap((r) =>
      spellings(concretePaths(r.path, PARAMS)[0]!).map((p) => ({ method: r.method, path: p, key: keys.all })),
    );
  for (const r of await sendAll(cases)) assert.equal(r.status, 404, `${r.method} ${r.path}: ${r.text.slice(0, 200)}`);
  for (const r of await sendAll(
    routes
      .filter((x) => x.access !== 'public')
      .map((x) => ({ method: 'OPTIONS', path: concretePaths(x.path, PARAMS)[0]!, key: keys.all })),
  )) {
    assert.equal(r.status, 404, `OPTIONS ${r.path} is not answered by Express's automatic Allow response: ${r.text}`);
  }
});

test('spellings of /whoami with a valid key: 404, never a crash', async () => {
  for (const p of ['/whoami/', '/WHOAMI', '/whoami;x', '//whoami']) {
    const [r] = await sendAll([{ method: 'GET', path: p, key: keys.infer }], 1);
    assert.equal(r!.status, 404, `${p}: ${r!.text}`);
  }
});

test('metrics are not on the public port in any spelling, and are on the metrics port', async () => {
  const metrics = ['/metrics', '/METRICS', '/Metrics', '/metrics/', '/%6detrics', '//metrics'];
  for (const r of await sendAll(
    metrics.flatMap((p) => [
      { method: 'GET', path: p },
      { method: 'GET', path: p, key: keys.all },
    ]),
  )) {
    assert.ok([401, 404].includes(r.status), `${r.path}: ${r.status}`);
    assert.ok(!r.text.includes('tessera_http_requests_total'), `${r.path} leaks metrics`);
  }
  const direct = await fetch(stack.apiMetricsUrls[0]!);
  assert.equal(direct.status, 200);
  const text = await direct.text();
  // Route labels are templates; the spellings above all share the one label of unmatched paths.
  const labels = new Set([...text.matchAll(/tessera_http_requests_total\{[^}]*route="([^"]*)"/g)].map((m) => m[1]));
  for (const label of labels)
    assert.ok(
      label === 'unmatched' || routes.some((r) => r.path === label) || PUBLIC.some((p) => p.endsWith(` ${label}`)),
      `label ${label} is a route template`,
    );
  assert.ok(labels.has('unmatched'));
});
