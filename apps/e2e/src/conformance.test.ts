import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync, inflateSync, deflateSync } from 'node:zlib';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { customRepository } from './custom-repository.js';
import { authorize, request, waitFor } from './http.js';
import { binaryBody, rawRequest, splitBinaryResponse } from './raw-http.js';

/**
 * The Open Inference Protocol as Triton's and KServe's own clients speak it, through nginx.
 * Each case names the client behaviour it mirrors, read from the clients' source:
 * tritonclient.http (geventhttpclient), tritonclient.http.aio (aiohttp) and KServe's
 * InferenceRESTClient (httpx).
 */
let stack: Stack;
let gw: string;
let repo: string;

const affine = (row: number[], extra: object = {}) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: row }],
  ...extra,
});
const json = (body: object) => Buffer.from(JSON.stringify(body));
const parse = (b: Buffer) => JSON.parse(b.toString('utf8'));
const fp32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);

before(async () => {
  repo = await customRepository({
    affine: { from: 'affine' },
    scores: { from: 'affine' },
    versioned: { from: 'affine', config: { cache: { enabled: false } } },
  });
  // A labels file beside a model, as Triton reads one: class i is line i.
  await writeFile(path.join(repo, 'scores', 'labels.txt'), 'north\neast\nsouth\nwest\n');
  stack = await startStack({
    replicas: 2,
    modelRepository: repo,
    logDir: await mkdtemp(path.join(tmpdir(), 'tessera-conformance-')),
    env: { LOG_LEVEL: 'warn', DEFAULT_MODEL: 'affine', PRIORITY_LEVELS: '10' },
  });
  gw = stack.gatewayUrl;
  authorize((await createApiKey({ redisUrl: stack.redisUrl, name: 'ops', scopes: ['infer', 'admin'] })).key);
});

after(async () => {
  await stack?.stop();
});

describe('wire behaviour', () => {
  test('tritonclient.http: a JSON body with no Content-Type is read as JSON, on infer and on the repository index', async () => {
    const res = await rawRequest(`${gw}/v2/models/affine/infer`, { body: json(affine([1, 2, 3, 4])) });
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(parse(res.body).outputs[0].data, [3, 5, 7, 9]);
    // get_model_repository_index() posts an empty body without a Content-Type.
    const index = await rawRequest(`${gw}/v2/repository/index`, { body: '' });
    assert.equal(index.status, 200, index.body.toString());
    assert.ok(parse(index.body).some((r: { name: string }) => r.name === 'affine'));
  });

  test('tritonclient.http.aio: a JSON body sent as application/octet-stream is read as JSON', async () => {
    const res = await rawRequest(`${gw}/v2/models/affine/infer`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: json(affine([0, 0, 0, 0])),
    });
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(parse(res.body).outputs[0].data, [1, 1, 1, 1]);
  });

  test('KServe InferenceRESTClient: errors are Content-Type application/json exactly, {"error","code"}, and bodies that do not parse are 400', async () => {
    const cases: Array<[string, Promise<Awaited<ReturnType<typeof rawRequest>>>, number]> = [
      [
        'not JSON',
        rawRequest(`${gw}/v2/models/affine/infer`, {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'x=1',
        }),
        400,
      ],
      ['unknown model', rawRequest(`${gw}/v2/models/nope/infer`, { body: json(affine([1, 2, 3, 4])) }), 404],
      ['unknown route', rawRequest(`${gw}/v2/nothing`), 404],
      ['no key', rawRequest(`${gw}/v2/models/affine`, { headers: { authorization: '' } }), 401],
    ];
    for (const [what, pending, status] of cases) {
      const res = await pending;
      assert.equal(res.status, status, what);
      assert.equal(res.headers['content-type'], 'application/json', what);
      const body = parse(res.body);
      assert.equal(typeof body.error, 'string', what);
      assert.equal(typeof body.code, 'string', what);
    }
  });

  test("Triton's example clients: the same request id with other inputs is answered, the id only echoed", async () => {
    const a = await request(`${gw}/v2/models/affine/infer`, { body: affine([1, 1, 1, 1], { id: '1' }) });
    const b = await request(`${gw}/v2/models/affine/infer`, { body: affine([2, 2, 2, 2], { id: '1' }) });
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.equal(b.body.id, '1');
    assert.deepEqual(b.body.outputs[0].data, [5, 5, 5, 5]);
    // Idempotency is asked for explicitly: the request parameter (or the Idempotency-Key header).
    const key = `conformance-${Date.now()}`;
    const first = await request(`${gw}/v2/models/affine/infer`, {
      body: affine([3, 3, 3, 3], { parameters: { idempotency_key: key } }),
    });
    const other = await request(`${gw}/v2/models/affine/infer`, {
      body: affine([4, 4, 4, 4], { parameters: { idempotency_key: key } }),
    });
    assert.equal(first.status, 200, first.text);
    assert.equal(other.status, 409, other.text);
  });

  test('tritonclient binary tensors: binary input, an outputs subset as binary, the other left out', async () => {
    const header = {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }],
      outputs: [{ name: 'sum', parameters: { binary_data: true } }],
    };
    const { body, headerLength } = binaryBody(header, fp32([1, 2, 3, 4]));
    const res = await rawRequest(`${gw}/v2/models/affine/infer`, {
      headers: { 'inference-header-content-length': headerLength },
      body,
    });
    assert.equal(res.status, 200, res.body.toString());
    const { header: out, data } = splitBinaryResponse(res);
    assert.deepEqual(
      out.outputs.map((o: { name: string }) => o.name),
      ['sum'],
    );
    assert.equal(data.readFloatLE(0), 24);
  });

  test('tritonclient request_compression_algorithm and response_compression_algorithm: gzip and deflate both ways, JSON and binary', async () => {
    const big = affine([1, 2, 3, 4], {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [64, 4], data: new Array(256).fill(0.5) }],
    });
    for (const [encoding, pack, unpack] of [
      ['gzip', gzipSync, gunzipSync],
      ['deflate', deflateSync, inflateSync],
    ] as const) {
      const res = await rawRequest(`${gw}/v2/models/affine/infer`, {
        headers: { 'content-encoding': encoding, 'accept-encoding': encoding },
        body: pack(json(big)),
      });
      assert.equal(res.status, 200, encoding);
      assert.equal(res.headers['content-encoding'], encoding);
      assert.equal(parse(unpack(res.body)).outputs[0].data.length, 256);
      const { body, headerLength } = binaryBody(
        {
          inputs: [{ name: 'x', datatype: 'FP32', shape: [64, 4], parameters: { binary_data_size: 1024 } }],
          parameters: { binary_data_output: true },
        },
        fp32(new Array(256).fill(0.5)),
      );
      const bin = await rawRequest(`${gw}/v2/models/affine/infer`, {
        headers: {
          'inference-header-content-length': headerLength,
          'content-encoding': encoding,
          'accept-encoding': encoding,
        },
        body: pack(body),
      });
      assert.equal(bin.status, 200, `${encoding} binary: ${bin.body.toString().slice(0, 200)}`);
      assert.equal(bin.headers['content-encoding'], encoding);
      const { data } = splitBinaryResponse(bin, unpack(bin.body));
      assert.equal(data.readFloatLE(0), 2);
    }
  });

  test('tritonclient timeout= in microseconds: from 1 µs to 4 ms, every answer is a 200 or the one 504 "request timeout expired"', async () => {
    const answers = await Promise.all(
      [1, 10, 100, 500, 1000, 2000, 4000].flatMap((us) =>
        [0, 1, 2].map(() =>
          request(`${gw}/v2/models/affine/infer`, {
            body: affine([us, 1, 2, 3], { parameters: { timeout: us } }),
            headers: { 'cache-control': 'no-cache' },
          }),
        ),
      ),
    );
    for (const res of answers) {
      if (res.status === 200) continue;
      assert.equal(res.status, 504, res.text);
      assert.match(res.body.error, /^request timeout expired: /);
      assert.doesNotMatch(res.body.error, /Redis/);
    }
    assert.ok(
      answers.some((r) => r.status === 504),
      'a 1 µs deadline passes before any result',
    );
  });

  test('tritonclient priority=: 0 and levels past the configured ones mean the default level, as Triton; a negative one is 400', async () => {
    for (const priority of [0, 1, 10, 11, 1000]) {
      const res = await request(`${gw}/v2/models/affine/infer`, {
        body: affine([priority, 0, 0, 0], { parameters: { priority } }),
      });
      assert.equal(res.status, 200, `${priority}: ${res.text}`);
    }
    assert.equal(
      (await request(`${gw}/v2/models/affine/infer`, { body: affine([1, 0, 0, 0], { parameters: { priority: -1 } }) }))
        .status,
      400,
    );
  });
});

describe('Triton extensions', () => {
  test('GET /v2 advertises exactly the implemented extensions', async () => {
    const res = await request(`${gw}/v2`);
    assert.deepEqual(res.body.extensions, [
      'binary_tensor_data',
      'classification',
      'model_configuration',
      'model_repository',
      'parameters',
      'schedule_policy',
      'statistics',
    ]);
  });

  test('InferRequestedOutput(class_count=2): "score:index:label" strings of the top 2, labels from labels.txt, in JSON and binary', async () => {
    const res = await request(`${gw}/v2/models/scores/infer`, {
      body: affine([1, 4, 2, 3], { outputs: [{ name: 'y', parameters: { classification: 2 } }] }),
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.outputs, [
      { name: 'y', datatype: 'BYTES', shape: [1, 2], data: ['9.000000:1:east', '7.000000:3:west'] },
    ]);
    const { body, headerLength } = binaryBody(
      {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }],
        outputs: [{ name: 'y', parameters: { classification: 1, binary_data: true } }],
      },
      fp32([4, 3, 2, 1]),
    );
    const bin = await rawRequest(`${gw}/v2/models/scores/infer`, {
      headers: { 'inference-header-content-length': headerLength },
      body,
    });
    const { header, data } = splitBinaryResponse(bin);
    assert.equal(header.outputs[0].datatype, 'BYTES');
    const length = data.readUInt32LE(0);
    assert.equal(data.subarray(4, 4 + length).toString(), '9.000000:0:north');
  });

  test("get_model_config: Triton's model configuration JSON", async () => {
    const res = await request(`${gw}/v2/models/affine/config`);
    assert.equal(res.status, 200, res.text);
    const c = res.body;
    assert.equal(c.name, 'affine');
    assert.equal(c.platform, 'onnxruntime_onnx');
    assert.equal(c.backend, 'onnxruntime');
    assert.equal(c.max_batch_size, 64);
    assert.deepEqual(c.input, [
      {
        name: 'x',
        data_type: 'TYPE_FP32',
        dims: [4],
        format: 'FORMAT_NONE',
        allow_ragged_batch: false,
        optional: false,
      },
    ]);
    assert.deepEqual(
      c.output.map((o: { name: string; data_type: string; dims: number[] }) => [o.name, o.data_type, o.dims]),
      [
        ['y', 'TYPE_FP32', [4]],
        ['sum', 'TYPE_FP32', []],
      ],
    );
    assert.equal(c.dynamic_batching.max_queue_delay_microseconds, 2000);
    assert.equal(c.instance_group[0].kind, 'KIND_CPU');
    assert.deepEqual(c.version_policy, { all: {} });
    assert.equal((await request(`${gw}/v2/models/affine/versions/1/config`)).body.name, 'affine');
  });

  test('get_inference_statistics: N requests through both replicas read back as exactly N more', async () => {
    const read = async () => (await request(`${gw}/v2/models/affine/versions/1/stats`)).body.model_stats[0];
    const before = await read();
    const n = 12;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        request(`${gw}/v2/models/affine/infer`, {
          body: affine([i, 100, 0, 0]),
          headers: { 'cache-control': 'no-cache' },
        }),
      ),
    );
    assert.ok(answers.every((a) => a.status === 200));
    const after = await waitFor('the statistics of every request', async () => {
      const s = await read();
      return s.inference_stats.success.count >= before.inference_stats.success.count + n && s;
    });
    assert.equal(after.inference_stats.success.count - before.inference_stats.success.count, n);
    assert.equal(after.inference_count - before.inference_count, n);
    assert.ok(after.execution_count > before.execution_count);
    assert.ok(after.inference_stats.compute_infer.ns > before.inference_stats.compute_infer.ns);
    const batched = after.batch_stats.reduce(
      (s: number, b: { batch_size: number; compute_infer: { count: number } }) =>
        s + b.batch_size * b.compute_infer.count,
      0,
    );
    assert.ok(batched >= after.inference_count, 'every item ran in a batch');
    const all = await request(`${gw}/v2/models/stats`);
    assert.ok(all.body.model_stats.some((m: { name: string }) => m.name === 'versioned'));
  });
});

describe('model repository', () => {
  test('unload and load: the index says UNAVAILABLE "unloaded", inference stops, and comes back READY', async () => {
    assert.equal(
      (
        await request(`${gw}/v2/repository/models/scores/unload`, {
          body: { parameters: { unload_dependents: false } },
        })
      ).status,
      200,
    );
    const index = (await request(`${gw}/v2/repository/index`, { body: {} })).body;
    assert.deepEqual(
      index.find((r: { name: string }) => r.name === 'scores'),
      { name: 'scores', state: 'UNAVAILABLE', reason: 'unloaded' },
    );
    assert.equal((await request(`${gw}/v2/models/scores/infer`, { body: affine([1, 2, 3, 4]) })).status, 404);
    assert.equal((await request(`${gw}/v2/repository/models/scores/load`, { body: {} })).status, 200);
    const ready = (await request(`${gw}/v2/repository/index`, { body: { ready: true } })).body;
    assert.ok(ready.some((r: { name: string; state: string }) => r.name === 'scores' && r.state === 'READY'));
    assert.equal((await request(`${gw}/v2/models/scores/infer`, { body: affine([1, 2, 3, 4]) })).status, 200);
  });

  test('a new version directory is loaded beside v1, then v1 is unloaded, under load, without one failed request', async () => {
    let stop = false;
    const seen: Record<string, number> = {};
    const failures: string[] = [];
    const client = async () => {
      while (!stop) {
        const res = await request(`${gw}/v2/models/versioned/infer`, { body: affine([1, 2, 3, 4]) });
        if (res.status !== 200) failures.push(`${res.status} ${res.text}`);
        else seen[res.body.model_version] = (seen[res.body.model_version] ?? 0) + 1;
      }
    };
    const clients = [client(), client(), client(), client()];
    await waitFor('requests to v1', async () => (seen['1'] ?? 0) > 10);
    await cp(path.join(repo, 'versioned', '1'), path.join(repo, 'versioned', '2'), { recursive: true });
    const load = await request(`${gw}/v2/repository/models/versioned/load`, { body: {} });
    assert.equal(load.status, 200, load.text);
    const both = (await request(`${gw}/v2/repository/index`, { body: {} })).body.filter(
      (r: { name: string }) => r.name === 'versioned',
    );
    assert.deepEqual(
      both.map((r: { version: string; state: string }) => [r.version, r.state]),
      [
        ['1', 'READY'],
        ['2', 'READY'],
      ],
    );
    await waitFor('requests to v2', async () => (seen['2'] ?? 0) > 10);
    // Unloading one version is a load with a version policy, as in Triton.
    const config = JSON.parse(await readFile(path.join(repo, 'versioned', 'config.json'), 'utf8')) as object;
    const only2 = await request(`${gw}/v2/repository/models/versioned/load`, {
      body: { parameters: { config: JSON.stringify({ ...config, version_policy: { specific: { versions: [2] } } }) } },
    });
    assert.equal(only2.status, 200, only2.text);
    const after = { ...seen };
    await waitFor('more requests after the unload', async () => (seen['2'] ?? 0) > (after['2'] ?? 0) + 20);
    stop = true;
    await Promise.all(clients);
    assert.deepEqual(failures, []);
    const index = (await request(`${gw}/v2/repository/index`, { body: {} })).body.filter(
      (r: { name: string }) => r.name === 'versioned',
    );
    assert.deepEqual(
      index.map((r: { version: string; state: string }) => [r.version, r.state]),
      [['2', 'READY']],
    );
    assert.equal((await request(`${gw}/v2/models/versioned/config`)).body.version_policy.specific.versions[0], 2);
  });

  test('load and unload need the admin scope', async () => {
    const infer = (await createApiKey({ redisUrl: stack.redisUrl, name: 'reader', scopes: ['infer'] })).key;
    const res = await request(`${gw}/v2/repository/models/affine/unload`, {
      body: {},
      headers: { authorization: `Bearer ${infer}` },
    });
    assert.equal(res.status, 403, res.text);
  });
});
