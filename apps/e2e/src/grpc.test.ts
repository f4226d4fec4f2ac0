import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  InvalidRequestError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitedError,
  UnauthenticatedError,
  type TesseraError,
} from '@tessera/client';
import { GrpcInferenceClient, inferenceService } from '@tessera/client/grpc';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { modelRepository } from './repository.js';

/**
 * inference.GRPCInferenceService through nginx's gRPC port, on the same code as REST: keys in
 * metadata, scopes and model allow-lists, rate limits, the cache and idempotency, errors as
 * gRPC statuses from the one table, hostile messages answered with a status, and many
 * inferences in flight on one ModelStreamInfer stream.
 */
let stack: Stack;
let key: string;

before(async () => {
  stack = await startStack({
    replicas: 2,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-grpc-')),
    env: { LOG_LEVEL: 'warn', BODY_LIMIT: '1mb' },
  });
  key = (await createApiKey({ redisUrl: stack.redisUrl, name: 'grpc', scopes: ['infer'] })).key;
});

after(async () => {
  await stack?.stop();
});

/** A client with `key`, another key, or none (''). */
const client = (apiKey = key) =>
  new GrpcInferenceClient({ url: stack.grpcAddress, ...(apiKey ? { apiKey } : {}), retry: { retries: 0 } });
const x = (...row: number[]) => [{ name: 'x', shape: [1, 4], data: new Float32Array(row) }];

/** A raw unary ModelInfer call with a hand-made message body, for what the SDK would never send. */
function rawCall(bytes: Buffer, apiKey = key): Promise<grpc.ServiceError | null> {
  const raw = new grpc.Client(stack.grpcAddress, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  });
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${apiKey}`);
  return new Promise((resolve) => {
    raw.makeUnaryRequest(
      '/inference.GRPCInferenceService/ModelInfer',
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      md,
      (err) => {
        raw.close();
        resolve(err);
      },
    );
  });
}

const encode = (message: object) => inferenceService().ModelInfer!.requestSerialize(message);

describe('gRPC through the gateway', () => {
  test('health, metadata, readiness, repository index', async () => {
    const c = client();
    assert.equal(await client('').serverLive(), true, 'health needs no key, as /v2/health/live');
    assert.equal(await c.serverReady(), true);
    assert.equal((await c.serverMetadata()).name, 'tessera');
    const meta = await c.modelMetadata('affine');
    assert.deepEqual(meta.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }]);
    assert.equal(meta.parameters?.max_batch_size, '64');
    assert.equal(await c.modelReady('affine'), true);
    assert.ok((await c.repositoryIndex()).some((m) => m.name === 'lid176' && m.state === 'READY'));
    c.close();
  });

  test('ModelInfer with raw contents and with typed contents; timings, cache and idempotency in parameters', async () => {
    const c = client();
    const r = await c.infer('affine', x(1, 2, 3, 4), { id: 'g1' });
    assert.equal(r.id, 'g1');
    assert.deepEqual([...r.output('y').data], [3, 5, 7, 9]);
    assert.equal(r.parameters.cache, 'miss');
    for (const p of ['total_ms', 'queue_ms', 'compute_ms', 'batch_size'])
      assert.equal(typeof r.parameters[p], 'number', p);
    assert.equal((await c.infer('affine', x(1, 2, 3, 4))).parameters.cache, 'hit');
    const first = await c.infer('affine', x(9, 9, 9, 9), { idempotencyKey: 'grpc-once', noCache: true });
    const again = await c.infer('affine', x(9, 9, 9, 9), { idempotencyKey: 'grpc-once', noCache: true });
    assert.equal(first.parameters.idempotent_replay, undefined);
    assert.equal(again.parameters.idempotent_replay, true);
    // Typed contents, as clients without raw bytes send them.
    const typed = await new Promise<{ raw_output_contents: Buffer[] }>((resolve, reject) => {
      const Raw = grpc.makeGenericClientConstructor(inferenceService(), 'GRPCInferenceService');
      const raw = new Raw(stack.grpcAddress, grpc.credentials.createInsecure()) as unknown as Record<
        string,
        (req: unknown, md: grpc.Metadata, cb: (e: Error | null, r: never) => void) => void
      > &
        grpc.Client;
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${key}`);
      raw.ModelInfer!(
        {
          model_name: 'affine',
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [0, 1, 2, 3] } }],
        },
        md,
        (e, res) => (raw.close(), e ? reject(e) : resolve(res)),
      );
    });
    assert.deepEqual([...new Float32Array(new Uint8Array(typed.raw_output_contents[0]!).buffer)], [1, 3, 5, 7]);
    c.close();
  });

  test('errors map to gRPC statuses from the one table, with the code and Retry-After in metadata', async () => {
    const c = client();
    const is = (Class: typeof TesseraError, code: string) => (e: TesseraError) =>
      e instanceof Class && e.code === code && (e.cause as grpc.ServiceError).code !== undefined;
    await assert.rejects(c.infer('nope', x(1, 2, 3, 4)), is(NotFoundError, 'model_not_found'));
    await assert.rejects(
      c.infer('affine', [{ name: 'x', shape: [1, 3], data: new Float32Array(3) }]),
      is(InvalidRequestError, 'invalid_input'),
    );
    await assert.rejects(c.infer('affine', x(1, 2, 3, 4), { priority: -1 }), is(InvalidRequestError, 'bad_request'));
    await assert.rejects(
      client('').infer('affine', x(1, 2, 3, 4)),
      (e: TesseraError) =>
        e instanceof UnauthenticatedError && (e.cause as grpc.ServiceError).code === grpc.status.UNAUTHENTICATED,
    );
    const lid = (await createApiKey({ redisUrl: stack.redisUrl, name: 'lid-only', models: ['lid176'] })).key;
    await assert.rejects(
      client(lid).modelMetadata('affine'),
      (e: TesseraError) =>
        e instanceof PermissionDeniedError && (e.cause as grpc.ServiceError).code === grpc.status.PERMISSION_DENIED,
    );
    const limited = (await createApiKey({ redisUrl: stack.redisUrl, name: 'grpc-limited', rateLimit: 1 })).key;
    await client(limited).infer('affine', x(0, 0, 0, 3));
    await assert.rejects(
      client(limited).infer('affine', x(0, 0, 0, 4)),
      (e: TesseraError) =>
        e instanceof RateLimitedError &&
        e.code === 'rate_limited' &&
        (e.retryAfterS ?? 0) > 0 &&
        (e.cause as grpc.ServiceError).code === grpc.status.RESOURCE_EXHAUSTED,
    );
    c.close();
  });

  test('hostile messages get a clean status and the replicas stay up', async () => {
    assert.equal(
      (await rawCall(Buffer.from([0x2a, 0x05, 0x0a])))?.code,
      grpc.status.INVALID_ARGUMENT,
      'malformed protobuf: an input 5 bytes long with 1 byte left',
    );
    const lying = encode({
      model_name: 'affine',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1000000, 4] }],
      raw_input_contents: [Buffer.alloc(16)],
    });
    assert.equal((await rawCall(lying))?.code, grpc.status.INVALID_ARGUMENT, 'shape and bytes disagree');
    const miscounted = encode({
      model_name: 'affine',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
      raw_input_contents: [Buffer.alloc(16), Buffer.alloc(16)],
    });
    assert.equal((await rawCall(miscounted))?.code, grpc.status.INVALID_ARGUMENT, 'more raw contents than inputs');
    const huge = encode({
      model_name: 'affine',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [131072, 4] }],
      raw_input_contents: [Buffer.alloc(2 * 1024 * 1024)],
    });
    assert.equal((await rawCall(huge))?.code, grpc.status.RESOURCE_EXHAUSTED, 'a message over BODY_LIMIT');
    const c = client();
    assert.deepEqual([...(await c.infer('affine', x(2, 2, 2, 2))).output('y').data], [5, 5, 5, 5]);
    c.close();
  });

  test('ModelStreamInfer: many requests in flight on one stream, each answered by id; a bad one fails alone', async () => {
    const c = client();
    const stream = c.stream();
    const answers = Array.from({ length: 24 }, (_, i) => stream.infer('affine', x(i, 0, 0, 0), { noCache: true }));
    const bad = stream.infer('affine', [{ name: 'x', shape: [1, 2], data: new Float32Array(2) }]);
    await assert.rejects(bad, (e: TesseraError) => e instanceof InvalidRequestError && e.code === 'invalid_input');
    const results = await Promise.all(answers);
    results.forEach((r, i) => assert.equal(r.output('y').data[0], 2 * i + 1));
    stream.end();
    // A second stream's made-up ids never meet the first's.
    const second = c.stream();
    assert.equal((await second.infer('affine', x(100, 0, 0, 0), { noCache: true })).output('y').data[0], 201);
    second.end();
    c.close();
  });
});
