import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { InferenceClient, InvalidRequestError, NotFoundError, UnauthenticatedError } from '@tessera/client';
import { createApiKey, findRepoRoot, startStack, type Stack } from '@tessera/topology';
import { renderText } from './images.js';
import { modelRepository } from './repository.js';

/**
 * The TypeScript SDK and the `tessera` CLI against the real stack, through nginx: typed arrays
 * in and out over binary and JSON REST, typed errors with the server's code, retries of a 429
 * with the same idempotency key after Retry-After, and /predict for texts and images.
 */
let stack: Stack;
let key: string;
let tmp: string;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'tessera-sdk-'));
  // A short rate-limit window, so that a limited key's Retry-After is a second or two.
  stack = await startStack({
    replicas: 2,
    modelRepository: await modelRepository(),
    logDir: tmp,
    env: { LOG_LEVEL: 'warn', RATE_LIMIT_WINDOW_MS: '2000' },
  });
  key = (await createApiKey({ redisUrl: stack.redisUrl, name: 'sdk', scopes: ['infer'] })).key;
});

after(async () => {
  await stack?.stop();
});

const x = (rows: number[][]) => ({ name: 'x', shape: [rows.length, 4], data: new Float32Array(rows.flat()) });

describe('SDK over REST', () => {
  for (const binary of [true, false]) {
    test(`infer with typed arrays (${binary ? 'binary' : 'JSON'} tensors): outputs, timings and cache in parameters`, async () => {
      const client = new InferenceClient({ url: stack.gatewayUrl, apiKey: key, binary });
      const r = await client.infer(
        'affine',
        [
          x([
            [1, 2, 3, 4],
            [5, 6, 7, binary ? 8 : 9],
          ]),
        ],
        { id: 'req-1' },
      );
      assert.equal(r.modelName, 'affine');
      assert.equal(r.id, 'req-1');
      assert.ok(r.output('y').data instanceof Float32Array);
      assert.deepEqual([...r.output('y').data], [3, 5, 7, 9, 11, 13, 15, binary ? 17 : 19]);
      assert.deepEqual(r.output('sum').shape, [2]);
      for (const p of ['total_ms', 'queue_ms', 'compute_ms', 'batch_size'])
        assert.equal(typeof r.parameters[p], 'number', p);
      assert.equal(r.parameters.cache, 'miss');
    });
  }

  test('64-bit integers travel as BigInt64Array; metadata, readiness and the repository index', async () => {
    const client = new InferenceClient({ url: stack.gatewayUrl, apiKey: key });
    const r = await client.infer('token-sum', [{ name: 'ids', shape: [1, 3], data: new BigInt64Array([3n, 1n, 4n]) }]);
    assert.deepEqual(r.output('total').data, new BigInt64Array([8n]));
    const meta = await client.modelMetadata('affine');
    assert.deepEqual(meta.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }]);
    assert.equal(await client.modelReady('affine'), true);
    assert.equal(await client.serverLive(), true);
    assert.equal((await client.serverMetadata()).name, 'tessera');
    assert.ok((await client.repositoryIndex({ ready: true })).some((m) => m.name === 'affine' && m.state === 'READY'));
  });

  test("errors are typed classes carrying the server's code", async () => {
    const client = new InferenceClient({ url: stack.gatewayUrl, apiKey: key });
    await assert.rejects(
      client.infer('nope', [x([[1, 2, 3, 4]])]),
      (e: NotFoundError) => e instanceof NotFoundError && e.code === 'model_not_found' && e.status === 404,
    );
    await assert.rejects(
      client.infer('affine', [{ name: 'x', shape: [1, 3], data: new Float32Array(3) }]),
      (e: InvalidRequestError) => e instanceof InvalidRequestError && e.code === 'invalid_input',
    );
    await assert.rejects(
      new InferenceClient({ url: stack.gatewayUrl }).modelMetadata('affine'),
      (e: UnauthenticatedError) => e instanceof UnauthenticatedError && e.code === 'unauthorized',
    );
  });

  test('a 429 is retried after Retry-After with the same idempotency key, and then succeeds', async () => {
    const limited = (
      await createApiKey({ redisUrl: stack.redisUrl, name: 'sdk-limited', scopes: ['infer'], rateLimit: 1 })
    ).key;
    const seen: { status: number; key: string | null }[] = [];
    const counting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      seen.push({ status: res.status, key: new Headers(init?.headers).get('idempotency-key') });
      return res;
    };
    const client = new InferenceClient({
      url: stack.gatewayUrl,
      apiKey: limited,
      fetch: counting,
      retry: { retries: 5 },
    });
    await client.infer('affine', [x([[0, 0, 0, 1]])]);
    const r = await client.infer('affine', [x([[0, 0, 0, 2]])]);
    assert.deepEqual([...r.output('y').data], [1, 1, 1, 5]);
    const second = seen.slice(1);
    assert.equal(second[0]!.status, 429, JSON.stringify(seen));
    assert.equal(second.at(-1)!.status, 200);
    assert.equal(new Set(second.map((s) => s.key)).size, 1, 'every try sent the same idempotency key');
  });

  test('/predict helpers: texts and images', async () => {
    const client = new InferenceClient({ url: stack.gatewayUrl, apiKey: key });
    const texts = await client.predictTexts(['Ceci est une phrase en français.'], { k: 2 });
    assert.equal(texts.results[0]!.label, 'fr');
    const lines = await client.predictImages<{ text: string }>([new Uint8Array(renderText(['Invoice 2026']))], {
      model: 'ocr-line',
    });
    assert.equal(lines.results[0]!.text, 'Invoice 2026');
  });
});

describe('tessera CLI', () => {
  const cli = (args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_URL: stack.gatewayUrl, TESSERA_API_KEY: key };
    delete env.NODE_TEST_CONTEXT;
    return promisify(execFile)(
      process.execPath,
      [path.join(findRepoRoot(), 'packages', 'client', 'dist', 'cli', 'main.js'), ...args],
      { env, timeout: 60_000 },
    );
  };

  test('models, metadata, infer from JSON and from .npy, predict; human and --json output', async () => {
    assert.match((await cli(['models'])).stdout, /^affine\s+1\s+READY$/m);
    assert.match((await cli(['metadata', 'affine'])).stdout, /x FP32 \[-1, 4\]/);
    const inferred = JSON.parse(
      (await cli(['infer', 'affine', '--input', 'x=[[1,2,3,4]]', '--output', 'y', '--json'])).stdout,
    );
    assert.deepEqual(inferred.outputs, [{ name: 'y', datatype: 'FP32', shape: [1, 4], data: [3, 5, 7, 9] }]);
    // numpy.save's format: magic, version 1.0, a padded header, then the little-endian data.
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }".padEnd(117) + '\n';
    writeFileSync(
      path.join(tmp, 'x.npy'),
      Buffer.concat([
        Buffer.from([0x93]),
        Buffer.from('NUMPY'),
        Buffer.from([1, 0, header.length, 0]),
        Buffer.from(header),
        Buffer.from(new Float32Array([0, 1, 2, 3]).buffer),
      ]),
    );
    assert.match(
      (await cli(['infer', 'affine', '--input', `x=@${path.join(tmp, 'x.npy')}`])).stdout,
      /^y FP32 \[1, 4\] \[1, 3, 5, 7\]$/m,
    );
    assert.match((await cli(['predict', '--text', 'Das ist ein deutscher Satz.'])).stdout, /^de\t/);
  });

  test('perf: throughput, percentiles and the server-side times per concurrency', async () => {
    const out = JSON.parse((await cli(['perf', 'affine', '--concurrency', '1,4', '--duration', '1', '--json'])).stdout);
    assert.deepEqual(
      out.steps.map((s: { concurrency: number }) => s.concurrency),
      [1, 4],
    );
    for (const s of out.steps) {
      assert.ok(s.requests > 0 && s.errors === 0, JSON.stringify(s));
      assert.ok(s.p50_ms <= s.p99_ms && s.server_compute_ms > 0, JSON.stringify(s));
    }
  });

  test('an error exits 1 with the server code', async () => {
    await assert.rejects(
      cli(['metadata', 'nope']),
      (e: { code: number; stderr: string }) => e.code === 1 && /404 model_not_found/.test(e.stderr),
    );
  });
});
