import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { Redis } from 'ioredis';
import { authorize, currentAuthorization, metricSum, request, waitFor } from './http.js';
import { modelRepository } from './repository.js';
import { renderText } from './images.js';

/**
 * The whole topology as users run it: real Redis, real nginx, three API replicas and one
 * worker running ONNX Runtime, all on free ports.
 */
let stack: Stack;
let gw: string;

before(async () => {
  stack = await startStack({
    replicas: 3,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-e2e-')),
    env: { LOG_LEVEL: 'warn' },
  });
  gw = stack.gatewayUrl;
  // Every request below carries a real API key, created as an operator would (the key CLI).
  authorize((await createApiKey({ redisUrl: stack.redisUrl, name: 'e2e', scopes: ['infer'] })).key);
});

after(async () => {
  await stack?.stop();
});

const affine = (row: number[]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: row }] });

describe('200 concurrent requests through nginx', () => {
  test('each gets its own correct answer, spread over the three replicas, in batches', async () => {
    const before = await Promise.all(
      stack.apiMetricsUrls.map(async (u) =>
        metricSum((await request(u)).text, 'tessera_http_requests_total', { route: '/v2/models/:name/infer' }),
      ),
    );
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const row = [i, i + 0.5, -i, i * 2];
        const res = await request(`${gw}/v2/models/affine/infer`, { body: { id: `req-${i}`, ...affine(row) } });
        return { i, row, res };
      }),
    );
    for (const { i, row, res } of results) {
      assert.equal(res.status, 200, `request ${i}: ${res.text}`);
      assert.equal(res.body.id, `req-${i}`);
      const y = res.body.outputs.find((o: { name: string }) => o.name === 'y');
      assert.deepEqual(y.shape, [1, 4]);
      assert.deepEqual(
        y.data,
        row.map((v) => 2 * Math.fround(v) + 1),
      );
      const sum = res.body.outputs.find((o: { name: string }) => o.name === 'sum');
      assert.ok(Math.abs(sum.data[0] - row.reduce((a, v) => a + 2 * v + 1, 0)) < 1e-3);
    }
    const batchSizes = results.map((r) => Number(r.res.headers.get('x-batch-size')));
    assert.ok(Math.max(...batchSizes) > 1, `some batch holds more than one request (max ${Math.max(...batchSizes)})`);
    const afterCounts = await Promise.all(
      stack.apiMetricsUrls.map(async (u) =>
        metricSum((await request(u)).text, 'tessera_http_requests_total', { route: '/v2/models/:name/infer' }),
      ),
    );
    const perReplica = afterCounts.map((n, k) => n - before[k]!);
    assert.equal(
      perReplica.reduce((a, b) => a + b, 0),
      200,
    );
    for (const n of perReplica) assert.ok(n > 0, `every replica served requests: ${perReplica}`);
    const worker = (await request(`${stack.workerMetricsUrl}`)).text;
    assert.ok(
      metricSum(worker, 'tessera_worker_batch_size_count', { model: 'affine' }) < 200,
      'fewer batches than requests',
    );
  });

  test('padding: token sequences of different lengths batch together with exact sums', async () => {
    const seqs = Array.from({ length: 40 }, (_, i) => Array.from({ length: 1 + (i % 7) }, (_, j) => i * 10 + j + 1));
    const results = await Promise.all(
      seqs.map((ids) => request(`${gw}/predict`, { body: { model: 'token-sum', inputs: { ids: [ids] } } })),
    );
    results.forEach((res, i) => {
      assert.equal(res.status, 200, res.text);
      assert.equal(
        res.body.results[0].total,
        seqs[i]!.reduce((a, b) => a + b, 0),
      );
      assert.equal(res.body.results[0].mask_count, seqs[i]!.length);
    });
    assert.ok(
      results.some((r) => r.body.timing.batch_size > 1),
      'sequences of different lengths shared a batch',
    );
  });

  test('a request that fails at run time fails alone; its batch-mates succeed', async () => {
    const indexes = Array.from({ length: 24 }, (_, i) => (i === 11 ? 99 : i % 10));
    const results = await Promise.all(
      indexes.map((index) =>
        request(`${gw}/v2/models/gather/infer`, {
          body: { inputs: [{ name: 'index', datatype: 'INT64', shape: [1, 1], data: [index] }] },
        }),
      ),
    );
    results.forEach((res, i) => {
      if (indexes[i] === 99) {
        assert.equal(res.status, 422, res.text);
        assert.match(res.body.error, /out of|bounds|indices/i);
      } else {
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body.outputs[0].data, [indexes[i]! * 1.5]);
      }
    });
  });
});

describe('Open Inference Protocol endpoints', () => {
  test('server metadata, health, model metadata and readiness', async () => {
    const meta = await request(`${gw}/v2`);
    assert.equal(meta.status, 200);
    assert.equal(meta.body.name, 'tessera');
    assert.ok(meta.body.extensions.includes('model_repository'));
    assert.deepEqual((await request(`${gw}/v2/health/live`)).body, { live: true });
    assert.equal((await request(`${gw}/v2/health/ready`)).status, 200);
    const model = await request(`${gw}/v2/models/affine`);
    assert.equal(model.status, 200);
    assert.equal(model.body.platform, 'onnxruntime_onnx');
    assert.deepEqual(model.body.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }]);
    assert.equal(model.body.parameters.execution_provider, 'cpu');
    assert.equal((await request(`${gw}/v2/models/affine/versions/1`)).status, 200);
    assert.deepEqual((await request(`${gw}/v2/models/affine/ready`)).body, { name: 'affine', ready: true });
    assert.equal((await request(`${gw}/v2/models/affine/versions/1/ready`)).status, 200);
  });

  test('the worker shows its device in /health and metrics, and every per-model series from the start', async () => {
    const worker = stack.workerUrls[0]!;
    const health = await request(`${worker}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.cuda_device_id, 0);
    assert.equal(health.body.providers['affine@1'], 'cpu');
    assert.deepEqual((await request(`${worker}/ready`)).body, { ready: true });
    const metrics = (await request(`${worker}/metrics`)).text;
    assert.match(metrics, /^tessera_worker_info\{device="auto",cuda_device="0"/m);
    // No OOM has happened, and the counter still has a series for every model.
    for (const model of ['affine', 'token-sum'])
      assert.match(metrics, new RegExp(`^tessera_worker_oom_events_total\\{model="${model}"[^}]*\\} 0$`, 'm'));
  });

  test('the repository index lists every model with version and state', async () => {
    const res = await request(`${gw}/v2/repository/index`, { method: 'POST', body: {} });
    assert.equal(res.status, 200);
    const names = res.body.map((m: { name: string }) => m.name);
    for (const n of ['affine', 'token-sum', 'gather', 'ocr-det', 'ocr-cls', 'ocr-rec'])
      assert.ok(names.includes(n), `${n} listed`);
    const affineRow = res.body.find((m: { name: string }) => m.name === 'affine');
    assert.deepEqual(affineRow, { name: 'affine', version: '1', state: 'READY' });
  });

  test('outputs are honoured, the id echoed, timings reported in body and headers', async () => {
    const res = await request(`${gw}/v2/models/affine/versions/1/infer`, {
      body: { id: 'abc', ...affine([1, 2, 3, 4]), outputs: [{ name: 'sum' }] },
      headers: { 'x-request-id': 'trace-123' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.id, 'abc');
    assert.equal(res.body.model_name, 'affine');
    assert.equal(res.body.model_version, '1');
    assert.deepEqual(res.body.outputs, [{ name: 'sum', datatype: 'FP32', shape: [1], data: [24] }]);
    for (const k of ['total_ms', 'queue_ms', 'compute_ms', 'batch_size'])
      assert.equal(typeof res.body.parameters[k], 'number', k);
    for (const h of ['x-total-time', 'x-queue-time', 'x-inference-time', 'x-batch-size'])
      assert.ok(res.headers.get(h), h);
    assert.equal(res.headers.get('x-request-id'), 'trace-123');
  });

  test('nested data and several items in one request', async () => {
    const res = await request(`${gw}/v2/models/affine/infer`, {
      body: {
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [3, 4],
            data: [
              [0, 0, 0, 0],
              [1, 1, 1, 1],
              [2, 2, 2, 2],
            ],
          },
        ],
      },
    });
    assert.equal(res.status, 200, res.text);
    const y = res.body.outputs.find((o: { name: string }) => o.name === 'y');
    assert.deepEqual(y.data, [1, 1, 1, 1, 3, 3, 3, 3, 5, 5, 5, 5]);
  });
});

/** A binary-extension body: the JSON header, then the raw bytes of each tensor. */
function binaryBody(header: object, ...tensors: ArrayBufferView[]): { raw: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  const raw = Buffer.concat([json, ...tensors.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))]);
  return {
    raw,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.byteLength) },
  };
}

describe('binary tensor data extension (as Triton clients send it)', () => {
  test('binary inputs and binary outputs give the same numbers as JSON', async () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const { raw, headers } = binaryBody(
      {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: x.byteLength } }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }, { name: 'sum' }],
      },
      x,
    );
    const res = await fetch(`${gw}/v2/models/affine/infer`, {
      method: 'POST',
      body: raw,
      headers: { ...headers, authorization: currentAuthorization() },
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const bytes = Buffer.from(await res.arrayBuffer());
    const n = Number(res.headers.get('inference-header-content-length'));
    const header = JSON.parse(bytes.subarray(0, n).toString('utf8'));
    const [y, sum] = header.outputs;
    assert.deepEqual(
      [y.name, y.datatype, y.shape, y.parameters, y.data],
      ['y', 'FP32', [2, 4], { binary_data_size: 32 }, undefined],
    );
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + n, bytes.byteOffset + n + 32));
    assert.deepEqual(
      [...values],
      [...x].map((v) => 2 * v + 1),
    );
    assert.deepEqual(sum.data, [24, 56], 'an output not asked as binary stays JSON');
    const viaJson = await request(`${gw}/v2/models/affine/infer`, {
      body: {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 4], data: [...x] }],
        parameters: { binary_data_output: true },
      },
    });
    assert.equal(viaJson.status, 200);
  });

  test('bad binary bodies get a 400 naming the problem and never reach the worker', async () => {
    const jobsBefore = metricSum((await request(stack.workerMetricsUrl)).text, 'tessera_worker_jobs_total');
    const url = `${gw}/v2/models/affine/infer`;
    const input = (size: number) => ({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: size } }],
    });
    const four = new Float32Array([1, 2, 3, 4]);
    const cases: Array<[string, { raw: Buffer; headers: Record<string, string> }, RegExp]> = [
      [
        'header length past the body',
        {
          ...binaryBody(input(16), four),
          headers: { ...binaryBody(input(16), four).headers, 'inference-header-content-length': '100000' },
        },
        /Inference-Header-Content-Length is 100000 but the body has/,
      ],
      [
        'header length not a number',
        {
          ...binaryBody(input(16), four),
          headers: { ...binaryBody(input(16), four).headers, 'inference-header-content-length': 'ten' },
        },
        /must be a non-negative integer/,
      ],
      [
        'truncated tensor bytes',
        binaryBody(input(16), new Float32Array([1, 2])),
        /needs 16 bytes of binary data but only 8 are left/,
      ],
      [
        'size that does not match the shape',
        binaryBody(input(12), new Float32Array([1, 2, 3])),
        /has 12 bytes of binary data; 4 FP32 elements need 16/,
      ],
      [
        'bytes nobody claims',
        binaryBody(input(16), four, new Float32Array([9])),
        /4 bytes of binary data that no input claims/,
      ],
      ['a NaN', binaryBody(input(16), new Float32Array([1, Number.NaN, 3, 4])), /element 1 must be a finite number/],
      [
        'binary size without binary data',
        { raw: Buffer.from(JSON.stringify(input(16))), headers: { 'content-type': 'application/json' } },
        /has no binary data/,
      ],
    ];
    for (const [what, body, pattern] of cases) {
      const res = await request(url, body);
      assert.equal(res.status, 400, `${what}: ${res.text}`);
      assert.match(res.body.error, pattern, what);
    }
    assert.equal(
      metricSum((await request(stack.workerMetricsUrl)).text, 'tessera_worker_jobs_total'),
      jobsBefore,
      'nothing reached the worker',
    );
  });
});

describe('/predict', () => {
  test('tensor shorthand answers one result per item with latency', async () => {
    const res = await request(`${gw}/predict`, {
      body: {
        model: 'affine',
        inputs: [
          [1, 2, 3, 4],
          [0, 0, 0, 0],
        ],
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.results, [
      { y: [3, 5, 7, 9], sum: 24 },
      { y: [1, 1, 1, 1], sum: 4 },
    ]);
    assert.equal(typeof res.body.latency_ms, 'number');
    assert.equal(res.body.timing.batch_size >= 2, true);
  });

  test('texts go to the default model, language identification, with top-k', async () => {
    const res = await request(`${gw}/predict`, {
      body: { texts: ['这是一条测试文本', 'Ceci est une phrase en français.', 'This is an English sentence.'], k: 3 },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.model, 'lid176');
    assert.deepEqual(
      res.body.results.map((r: { label: string }) => r.label),
      ['zh', 'fr', 'en'],
    );
    for (const r of res.body.results) {
      assert.ok(r.score > 0.5 && r.score <= 1, `score ${r.score}`);
      assert.equal(r.top.length, 3);
      assert.equal(r.top[0].label, r.label);
    }
    assert.equal(res.body.timing.batch_size >= 3, true);
    // The same texts again: the pipeline's inference is answered by the response cache.
    assert.match(res.headers.get('x-cache') ?? '', /^(miss|hit)$/);
    const again = await request(`${gw}/predict`, {
      body: { texts: ['这是一条测试文本', 'Ceci est une phrase en français.', 'This is an English sentence.'], k: 3 },
    });
    assert.equal(again.headers.get('x-cache'), 'hit');
    assert.deepEqual(again.body.results, res.body.results);
  });

  test('bad texts get a 400 naming the problem', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ texts: [] }, /texts/],
      [{ texts: ['ok', 42] }, /texts\[1\]/],
      [{ texts: [''] }, /texts\[0\].*empty/],
      [{ texts: ['x'.repeat(10_001)] }, /texts\[0\]/],
      [{ texts: ['a'], k: 0 }, /\bk\b/],
      [{ model: 'lid176', images: ['aGVsbG8='] }, /takes 'texts', not 'images'/],
    ];
    for (const [body, pattern] of cases) {
      const res = await request(`${gw}/predict`, { body });
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      assert.match(res.body.error, pattern);
    }
  });
});

describe('model versions: FP32 (1) and INT8 (2) side by side', () => {
  const texts = ['Ceci est une phrase en français.', 'This is an English sentence.'];

  test('/predict picks a version with `version`; without it the default its config names for the CPU answers', async () => {
    const reads = await Promise.all(
      ['1', '2', undefined].map((version) =>
        request(`${gw}/predict`, { body: { texts, ...(version ? { version } : {}) } }),
      ),
    );
    for (const res of reads) assert.equal(res.status, 200, res.text);
    // lid176's INT8 version is smaller but no faster, so FP32 stays its CPU default (default_version_cpu).
    assert.deepEqual(
      reads.map((r) => r.body.versions.lid176),
      ['1', '2', '1'],
    );
    const page = await request(`${gw}/predict`, {
      body: { model: 'ocr-line', images: [renderText(['Invoice 2026']).toString('base64')] },
    });
    assert.equal(page.status, 200, page.text);
    // ocr-rec's INT8 version (MatMuls only) is within the accuracy bound but no faster: FP32 stays the default.
    assert.deepEqual(page.body.versions, { 'ocr-rec': '1' });
    for (const res of reads)
      assert.deepEqual(
        res.body.results.map((r: { label: string }) => r.label),
        ['fr', 'en'],
      );
    const [fp32, int8] = reads.map((r) => r.body.results.map((x: { score: number }) => x.score));
    fp32.forEach((p: number, i: number) =>
      assert.ok(Math.abs(p - int8[i]) < 0.05, `score ${p} (FP32) against ${int8[i]} (INT8)`),
    );
  });

  test('the protocol path /versions/{v} reaches each version; both are listed and ready', async () => {
    const ids = { inputs: [{ name: 'ids', datatype: 'INT64', shape: [1, 3], data: [5, 17, 42] }] };
    for (const v of ['1', '2']) {
      const res = await request(`${gw}/v2/models/lid176/versions/${v}/infer`, { body: ids });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.model_version, v);
      assert.equal((await request(`${gw}/v2/models/lid176/versions/${v}/ready`)).status, 200);
    }
    const meta = await request(`${gw}/v2/models/ocr-rec`);
    assert.deepEqual(meta.body.versions, ['1', '2']);
    const bad = await request(`${gw}/predict`, { body: { texts, version: '9' } });
    assert.equal(bad.status, 404, bad.text);
    assert.match(bad.body.error, /unknown version '9'/);
  });
});

describe('OCR through the stack', () => {
  test('text lines: each image comes back as its text', async () => {
    // Accuracy is measured in packages/ocr against the reference; these lines check the path.
    const lines = ['Invoice 2026', 'Total 4711.50', 'Queue depth 64', 'Batch size 32'];
    const res = await request(`${gw}/predict`, {
      body: { model: 'ocr-line', images: lines.map((l) => renderText([l]).toString('base64')) },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      res.body.results.map((r: { text: string }) => r.text.replace(/\s+/g, '')),
      lines.map((l) => l.replace(/\s+/g, '')),
    );
    for (const r of res.body.results) assert.ok(r.score > 0.8, `score ${r.score}`);
  });

  test('a page: detection, orientation and recognition find each line with its box', async () => {
    const page = renderText(['Queue depth 64', 'Batch size 32'], { width: 520, lineHeight: 80 });
    const res = await request(`${gw}/predict`, {
      body: { model: 'ocr', images: [`data:image/png;base64,${page.toString('base64')}`] },
    });
    assert.equal(res.status, 200, res.text);
    // The CPU defaults: ocr-det's INT8 version is the faster within the OCR bounds, the others' are not faster.
    assert.deepEqual(res.body.versions, { 'ocr-det': '2', 'ocr-cls': '1', 'ocr-rec': '1' });
    const found = res.body.results[0] as { text: string; box: number[][] }[];
    assert.deepEqual(
      found.map((l) => l.text.replace(/\s+/g, '')),
      ['Queuedepth64', 'Batchsize32'],
    );
    assert.ok(found[0]!.box[0]![1]! < found[1]!.box[0]![1]!, 'lines come top to bottom');
    assert.ok(res.body.timing.inference_calls >= 3, 'detection, classification and recognition each ran');
    // Page and line tensors are large: they travelled as raw Redis values, deleted once used.
    const redis = new Redis(stack.redisUrl);
    try {
      await waitFor(
        'the inputs stored apart to be deleted',
        async () => (await redis.keys('tessera:blob:*')).length === 0,
      );
    } finally {
      redis.disconnect();
    }
  });

  test('bad images get a 400 naming the problem', async () => {
    const png = renderText(['x']);
    const cases: Array<[unknown, RegExp]> = [
      [{ model: 'ocr-line', images: [42] }, /images\[0\]/],
      [{ model: 'ocr-line', images: ['not base64 at all!'] }, /images\[0\]/],
      [{ model: 'ocr-line', images: [Buffer.from('plain text, not an image').toString('base64')] }, /images\[0\]/],
      [{ model: 'ocr-line', images: [png.subarray(0, png.length / 2).toString('base64')] }, /images\[0\]/],
      [{ model: 'ocr-line', images: [] }, /images/],
      [{ model: 'ocr-line', images: [png.toString('base64'), 'AAAA'] }, /images\[1\]/],
      [{ model: 'ocr', texts: ['hello'] }, /takes 'images', not 'texts'/],
    ];
    for (const [body, pattern] of cases) {
      const res = await request(`${gw}/predict`, { body });
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      assert.match(res.body.error, pattern);
    }
  });
});

describe('bad input gets a clear 4xx and never reaches the worker', () => {
  test('each kind of bad input', async () => {
    const jobsBefore = metricSum((await request(stack.workerMetricsUrl)).text, 'tessera_worker_jobs_total');
    const url = `${gw}/v2/models/affine/infer`;
    const x = (over: object) => ({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4], ...over }],
    });
    const cases: Array<[string, Promise<{ status: number; body: any }>, number, RegExp]> = [
      [
        'malformed JSON',
        request(url, { raw: '{"inputs": [', headers: { 'content-type': 'application/json' } }),
        400,
        /malformed JSON/,
      ],
      [
        'not JSON',
        request(url, { raw: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        400,
        /malformed JSON/,
      ],
      [
        'unknown model',
        request(`${gw}/v2/models/nope/infer`, { body: affine([1, 2, 3, 4]) }),
        404,
        /unknown model 'nope'/,
      ],
      [
        'unknown version',
        request(`${gw}/v2/models/affine/versions/7/infer`, { body: affine([1, 2, 3, 4]) }),
        404,
        /unknown version '7'/,
      ],
      ['wrong input name', request(url, { body: x({ name: 'z' }) }), 400, /unknown input 'z'/],
      [
        'wrong shape',
        request(url, { body: x({ shape: [1, 3], data: [1, 2, 3] }) }),
        400,
        /dimension 1 is 3, model expects 4/,
      ],
      ['wrong datatype', request(url, { body: x({ datatype: 'INT32' }) }), 400, /datatype "INT32", model expects FP32/],
      ['wrong element count', request(url, { body: x({ data: [1, 2, 3] }) }), 400, /3 elements, shape \[1,4\] needs 4/],
      ['non-numeric element', request(url, { body: x({ data: [1, 'two', 3, 4] }) }), 400, /finite number/],
      ['empty batch', request(url, { body: x({ shape: [0, 4], data: [] }) }), 400, /empty batch/],
      ['no inputs', request(url, { body: { inputs: [] } }), 400, /non-empty array/],
      [
        'more items than allowed',
        request(url, { body: x({ shape: [65, 4], data: new Array(260).fill(1) }) }),
        400,
        /65 items.*at most 64/,
      ],
      [
        'body over the API limit',
        request(url, { raw: `[${'1,'.repeat(64.5 * 512 * 1024)}1]`, headers: { 'content-type': 'application/json' } }),
        413,
        /larger than the 67108864 byte limit/,
      ],
      [
        'body over the gateway limit',
        request(url, { raw: `[${'1,'.repeat(66 * 512 * 1024)}1]`, headers: { 'content-type': 'application/json' } }),
        413,
        /larger than the gateway limit/,
      ],
      [
        'unknown output',
        request(url, { body: { ...affine([1, 2, 3, 4]), outputs: [{ name: 'nope' }] } }),
        400,
        /unknown output 'nope'/,
      ],
      [
        'texts to a tensor model',
        request(`${gw}/predict`, { body: { model: 'affine', texts: ['hello'] } }),
        400,
        /takes tensors, not texts/,
      ],
      [
        'ragged predict inputs',
        request(`${gw}/predict`, {
          body: {
            model: 'affine',
            inputs: [
              [1, 2, 3, 4],
              [1, 2],
            ],
          },
        }),
        400,
        /ragged/,
      ],
      ['unknown route', request(`${gw}/v2/nothing`), 404, /no route/],
    ];
    for (const [what, pending, status, pattern] of cases) {
      const res = await pending;
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body?.error, 'string', `${what} answers {"error"}`);
      assert.match(res.body.error, pattern, what);
    }
    const jobsAfter = metricSum((await request(stack.workerMetricsUrl)).text, 'tessera_worker_jobs_total');
    assert.equal(jobsAfter, jobsBefore, 'no invalid request reached the worker');
    const ok = await request(url, { body: affine([1, 2, 3, 4]) });
    assert.equal(ok.status, 200, 'the service still answers');
  });
});

describe('operations', () => {
  test('metrics: API replicas and worker, not exposed through the public port', async () => {
    const api = (await request(stack.apiMetricsUrls[0]!)).text;
    for (const name of [
      'tessera_http_requests_total',
      'tessera_http_request_duration_seconds_bucket',
      'tessera_queue_depth',
      'tessera_request_batch_size_bucket',
    ]) {
      assert.ok(api.includes(name), `api exports ${name}`);
    }
    const worker = (await request(stack.workerMetricsUrl)).text;
    for (const name of [
      'tessera_worker_batch_size_bucket',
      'tessera_worker_batch_compute_seconds_bucket',
      'tessera_worker_batch_cap',
      'tessera_worker_batch_delay_seconds',
      'tessera_worker_oom_events_total',
      'tessera_worker_execution_provider',
    ]) {
      assert.ok(worker.includes(name), `worker exports ${name}`);
    }
    assert.equal(metricSum(worker, 'tessera_worker_execution_provider', { model: 'affine', provider: 'cpu' }), 1);
    assert.equal((await request(`${gw}/metrics`)).status, 404);
  });

  test('helmet headers and service health endpoints', async () => {
    const res = await request(`${gw}/ready`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-powered-by'), null);
    assert.equal((await request(`${gw}/live`)).status, 200);
    const health = await request(`${gw}/health`);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.workers.length, 1);
  });
});
