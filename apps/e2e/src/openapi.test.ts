import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { createApiKey, findRepoRoot, startStack, type Stack } from '@tessera/topology';
import { request } from './http.js';
import { incompatibilities, pathShape, resolve, type Doc } from './openapi-compat.js';
import { modelRepository } from './repository.js';

/**
 * /v2/openapi.json against the official Open Inference Protocol REST spec and against the live
 * answers of every route, success and error, validated with a JSON Schema 2020-12 validator
 * (its agreement with the route table is checked in route-table.test.ts).
 */

let stack: Stack;
let doc: Doc;
const keys = { infer: '', admin: '' };

before(async () => {
  stack = await startStack({
    replicas: 1,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-openapi-')),
    env: { LOG_LEVEL: 'warn' },
  });
  keys.infer = (await createApiKey({ redisUrl: stack.redisUrl, name: 'infer', scopes: ['infer'] })).key;
  keys.admin = (await createApiKey({ redisUrl: stack.redisUrl, name: 'admin', scopes: ['infer', 'admin'] })).key;
  const res = await request<Doc>(`${stack.gatewayUrl}/v2/openapi.json`, { headers: { authorization: '' } });
  assert.equal(res.status, 200, 'the document is public');
  doc = res.body;
});

after(async () => {
  await stack?.stop();
});

test('every path of the official OIP REST spec is here, with compatible request and response schemas', () => {
  const spec = parse(
    readFileSync(
      path.join(findRepoRoot(), '..', 'shared', 'specs', 'open-inference-protocol', 'open_inference_rest.yaml'),
      'utf8',
    ),
  ) as Doc;
  const ours = new Map(Object.keys(doc.paths).map((p) => [pathShape(p), p]));
  let compared = 0;
  for (const [oipPath, ops] of Object.entries(spec.paths)) {
    const mine = ours.get(pathShape(oipPath));
    assert.ok(mine, `OIP path ${oipPath} is in the document`);
    for (const [method, op] of Object.entries(ops)) {
      if (method === 'parameters') continue;
      const our = doc.paths[mine]![method];
      assert.ok(our, `${method} ${oipPath}`);
      const theirBody = op.requestBody?.content?.['application/json']?.schema;
      if (theirBody) {
        compared++;
        const problems = incompatibilities(
          doc,
          our.requestBody?.content?.['application/json']?.schema,
          spec,
          theirBody,
          'request',
          `${method} ${oipPath} body`,
        );
        assert.deepEqual(problems, []);
      }
      for (const [status, answer] of Object.entries<Record<string, any>>(op.responses)) {
        const theirs = answer.content?.['application/json']?.schema;
        if (!theirs) continue;
        compared++;
        const problems = incompatibilities(
          doc,
          our.responses[status]?.content?.['application/json']?.schema,
          spec,
          theirs,
          'response',
          `${method} ${oipPath} ${status}`,
          // The binary tensor data extension sends an output's bytes after the JSON instead of `data`;
          // OIP's `properties` of model metadata is named `parameters` in every server's answer.
          ['response_output.data', 'metadata_model_response.properties'],
        );
        assert.deepEqual(problems, []);
      }
    }
  }
  assert.ok(compared >= 5, `${compared} schemas compared`);
  assert.ok(resolve(spec, { $ref: '#/components/schemas/inference_request' }), 'the spec parsed');
});

/** Validates live answers against the operation they came from. */
function checker() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'urn:tessera:openapi', components: doc.components });
  const seen = new Set<string>();
  return {
    seen,
    check(method: string, template: string, res: { status: number; headers: Headers; body: unknown; text: string }) {
      const op = doc.paths[template]?.[method];
      assert.ok(op, `${method} ${template} is documented`);
      seen.add(`${method} ${template}`);
      const answer = op.responses[String(res.status)];
      assert.ok(answer, `${method} ${template}: status ${res.status} is documented (${res.text.slice(0, 200)})`);
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
      if (!answer.content) return;
      assert.ok(answer.content[type], `${method} ${template} ${res.status}: ${type} is documented`);
      const schema = answer.content[type].schema;
      if (!schema) return;
      const validate = ajv.compile({ $ref: `urn:tessera:openapi${schema.$ref}` });
      assert.ok(
        validate(res.body),
        `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)} in ${res.text.slice(0, 300)}`,
      );
    },
  };
}

test("every route's live answers, success and error, validate against the document", async () => {
  const { check, seen } = checker();
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const call = async (
    method: string,
    template: string,
    url: string,
    status: number,
    init: Parameters<typeof request>[1] = {},
  ) => {
    const res = await request(`${stack.gatewayUrl}${url}`, {
      method: method.toUpperCase(),
      ...init,
      headers: { ...as(keys.admin), ...init.headers },
    });
    assert.equal(res.status, status, `${method} ${url}: ${res.text.slice(0, 200)}`);
    check(method, template, res);
  };
  const affine = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] };
  const anonymous = { headers: { authorization: '' } };

  for (const p of ['/live', '/ready', '/health', '/v2/health/live', '/v2/health/ready', '/v2/openapi.json'])
    await call('get', p, p, 200, anonymous);
  for (const p of ['/docs', '/docs/try', '/admin/login', '/docs/try.js']) await call('get', p, p, 200, anonymous);
  for (const f of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-init.js'])
    await call('get', `/docs/${f}`, `/docs/${f}`, 200, anonymous);
  await call('get', '/v2', '/v2', 200);
  await call('get', '/v2', '/v2', 401, anonymous);
  await call('get', '/whoami', '/whoami', 200);
  for (const suffix of ['', '/ready', '/config', '/stats']) {
    await call('get', `/v2/models/{name}${suffix}`, `/v2/models/affine${suffix}`, 200);
    await call('get', `/v2/models/{name}/versions/{version}${suffix}`, `/v2/models/affine/versions/1${suffix}`, 200);
    await call('get', `/v2/models/{name}${suffix}`, `/v2/models/no-such-model${suffix}`, 404);
  }
  await call('get', '/v2/models/stats', '/v2/models/stats', 200);
  const infer = '/v2/models/{name}/infer';
  await call('post', infer, '/v2/models/affine/infer', 200, { body: affine });
  await call('post', '/v2/models/{name}/versions/{version}/infer', '/v2/models/affine/versions/1/infer', 200, {
    body: affine,
  });
  await call('post', infer, '/v2/models/affine/infer', 400, { body: { inputs: [] } });
  await call('post', infer, '/v2/models/affine/infer', 400, { body: { inputs: [{ name: 1 }] } });
  await call('post', infer, '/v2/models/affine/infer', 401, { body: affine, headers: { authorization: 'Bearer x' } });
  await call('post', '/v2/repository/index', '/v2/repository/index', 200, { body: { ready: true } });
  await call('post', '/v2/repository/index', '/v2/repository/index', 400, { body: { ready: 'yes' } });
  const repo = (what: string) => `/v2/repository/models/{name}/${what}`;
  await call('post', repo('unload'), '/v2/repository/models/token-sum/unload', 200, { body: {} });
  await call('post', repo('load'), '/v2/repository/models/token-sum/load', 200, { body: {} });
  await call('post', repo('load'), '/v2/repository/models/token-sum/load', 400, { body: { parameters: 1 } });
  await call('post', repo('unload'), '/v2/repository/models/affine/unload', 403, { headers: as(keys.infer) });
  const lid = { model: 'lid176', texts: ['Ceci est une phrase en français.'] };
  await call('post', '/predict', '/predict', 200, { body: lid });
  await call('post', '/predict', '/predict', 200, { body: { model: 'affine', inputs: [[1, 2, 3, 4]] } });
  await call('post', '/predict', '/predict', 400, { body: { model: 7 } });
  await call('post', '/predict', '/predict', 400, { body: { model: 'lid176', texts: [7] } });
  await call('get', '/admin/models/{name}', '/admin/models/affine', 200);
  for (const action of ['pause', 'resume', 'drain'])
    await call('post', `/admin/models/{name}/${action}`, `/admin/models/affine/${action}`, 200);
  await call('get', '/admin/models/{name}', '/admin/models/affine', 403, { headers: as(keys.infer) });
  await call('get', '/admin/queues/{page}', '/admin/queues/', 200);
  // Signing in needs the dashboard's own origin: a plain client is refused.
  await call('post', '/admin/login', '/admin/login', 403, { body: { key: keys.admin } });
  await call('post', '/admin/logout', '/admin/logout', 204);

  const all = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
  assert.deepEqual(
    all.filter((k) => !seen.has(k)),
    [],
    'every operation was called',
  );
});
