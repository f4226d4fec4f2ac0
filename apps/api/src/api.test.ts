import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadApiConfig } from '@tessera/config';
import { failureReason, toWire, type InferJobData, type InferJobResult, type InferJobSummary } from '@tessera/contract';
import { loadRepository } from '@tessera/model-repository';
import { prepareRepository } from '@tessera/model-zoo';
import { Heartbeat, queueName } from '@tessera/queue';
import { createLogger } from '@tessera/telemetry';
import { freePort, startRedis, type RedisHandle } from '@tessera/topology';
import { createContext, type ApiContext } from './context.js';
import { createServer } from './server.js';

/**
 * The API against a real Redis with a stand-in worker: the paths where no reply comes, where
 * the reply is lost but the job finished, and where Redis goes away.
 */
let redis: RedisHandle;
let ctx: ApiContext;
let server: Server;
let base: string;
let beatConn: Redis;
let heartbeat: Heartbeat;

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-api-'));
  redis = await startRedis({ port: await freePort(), dir: path.join(dir, 'redis') });
  await prepareRepository(path.join(dir, 'models'), { only: 'test' });
  const config = loadApiConfig({
    REDIS_URL: redis.url,
    MODEL_REPOSITORY: path.join(dir, 'models'),
    REQUEST_TIMEOUT_MS: '400',
    LOG_LEVEL: 'silent',
    REPLICA_ID: 'api-test',
    AUTH: 'off',
  });
  ctx = createContext(
    config,
    createLogger({ service: 'api', level: 'silent' }),
    await loadRepository(config.MODEL_REPOSITORY),
  );
  server = createServer(ctx).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A worker that beats but takes no job: the API admits requests for affine.
  beatConn = new Redis(redis.url);
  beatConn.on('error', () => {}); // Redis is stopped on purpose in the last test
  heartbeat = new Heartbeat(
    beatConn,
    'tessera',
    1000,
    () => ({ id: 'stand-in', models: ['affine@1'], providers: { 'affine@1': 'cpu' }, caps: {}, startedAt: Date.now() }),
    () => {},
  );
  await heartbeat.beat();
});

after(async () => {
  await heartbeat?.stop('stand-in').catch(() => {
    // Redis was stopped by the last test: the heartbeat has nothing left to remove.
  });
  beatConn?.disconnect();
  server?.close();
  await ctx?.close();
  await redis?.stop();
});

const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
const infer = () =>
  fetch(`${base}/v2/models/affine/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

test('no reply before the deadline: 504, and the queued job is withdrawn', async () => {
  // The stand-in is live for three heartbeat intervals after a beat, whatever the earlier tests took.
  await heartbeat.beat();
  const res = await infer();
  assert.equal(res.status, 504);
  assert.match(((await res.json()) as { error: string }).error, /no result within 400 ms \(job waiting\)/);
  const queue = new Queue(queueName('affine'), { connection: { url: redis.url }, prefix: 'tessera' });
  assert.equal(await queue.getWaitingCount(), 0, 'the expired job was removed from the queue');
  await queue.close();
});

test('a model no live worker serves is refused at once with 503', async () => {
  const res = await fetch(`${base}/v2/models/token-sum/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'ids', datatype: 'INT64', shape: [1, 2], data: [1, 2] }] }),
  });
  assert.equal(res.status, 503);
  assert.match(((await res.json()) as { error: string }).error, /no live worker serves model 'token-sum'/);
});

test('a finished job whose reply was lost is answered from the job itself', async () => {
  // The stand-in is live for three heartbeat intervals after a beat, whatever the earlier tests took.
  await heartbeat.beat();
  // This stand-in completes jobs without pushing a reply, like a reply lost in transit.
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const worker = new Worker<InferJobData, InferJobSummary>(
    queueName('affine'),
    async (job) => {
      const result: InferJobResult = {
        outputs: [toWire({ name: 'y', datatype: 'FP32', shape: [1, 4], data: new Float32Array([3, 5, 7, 9]) })],
        timing: { queueMs: 1, computeMs: 1, batchSize: 1 },
        provider: 'cpu',
        worker: `stand-in for ${job.id}`,
      };
      return {
        requests: Object.fromEntries(job.data.requests.map((r) => [r.requestId, { ok: true as const, result }])),
      };
    },
    { connection, prefix: 'tessera' },
  );
  try {
    const res = await infer();
    assert.equal(res.status, 200);
    const out = (await res.json()) as { outputs: { data: number[] }[] };
    assert.deepEqual(out.outputs[0]!.data, [3, 5, 7, 9]);
  } finally {
    await worker.close();
    connection.disconnect();
  }
});

test('a job that failed while its reply was missed is answered with the failure the worker recorded', async () => {
  // The stand-in is live for three heartbeat intervals after a beat, whatever the earlier tests took.
  await heartbeat.beat();
  // This stand-in fails jobs without pushing a reply, as when the worker drops a request at its
  // deadline just as the API's reply timer fires: the client gets the worker's 504, not a 500.
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const worker = new Worker<InferJobData, InferJobSummary>(
    queueName('affine'),
    async () => {
      throw new UnrecoverableError(failureReason({ code: 'timeout', message: 'request deadline passed while queued' }));
    },
    { connection, prefix: 'tessera' },
  );
  try {
    // An input no earlier test sent, so that the response cache cannot answer it.
    const res = await fetch(`${base}/v2/models/affine/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [5, 6, 7, 8] }] }),
    });
    assert.equal(res.status, 504, await res.clone().text());
    assert.match(
      ((await res.json()) as { error: string }).error,
      /^request timeout expired: no result within 400 ms \(dropped at its deadline, not computed\)$/,
    );
  } finally {
    await worker.close();
    connection.disconnect();
  }
});

test('readiness needs Redis only; a model without workers is its own readiness and a gauge', async () => {
  // Only affine has a (stand-in) worker: the replica is still ready, token-sum alone is not.
  await heartbeat.beat();
  const ready = await fetch(`${base}/ready`);
  assert.equal(ready.status, 200, await ready.clone().text());
  assert.equal((await fetch(`${base}/v2/health/ready`)).status, 200);
  assert.equal((await fetch(`${base}/v2/models/token-sum/ready`)).status, 503);
  assert.equal((await fetch(`${base}/v2/models/affine/ready`)).status, 200);
  const text = await ctx.metrics.registry.metrics();
  assert.match(text, /^tessera_model_workers\{model="affine"[^}]*\} 1$/m);
  assert.match(text, /^tessera_model_workers\{model="token-sum"[^}]*\} 0$/m);
  assert.match(
    text,
    /^tessera_cache_requests_total\{model="token-sum",result="hit"[^}]*\} 0$/m,
    'cache series start at 0',
  );
  assert.match(text, /^tessera_redis_up\{[^}]*\} 1$/m);
  assert.match(text, /^tessera_model_max_batch_size\{model="affine"[^}]*\} \d+$/m);
  assert.match(
    text,
    /^tessera_model_latency_objective_seconds\{model="affine"[^}]*\} 0\.4$/m,
    'without an objective, the deadline',
  );
});

test('HTTP metrics carry the model and leave out probes and scrapes', async () => {
  await fetch(`${base}/v2/models/no-such-model/ready`);
  await fetch(`${base}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'token-sum', inputs: [[1, 2]] }),
  });
  const text = await ctx.metrics.registry.metrics();
  assert.match(
    text,
    /^tessera_http_requests_total\{method="GET",route="\/v2\/models\/:name\/ready",status="200",model="affine"/m,
  );
  assert.match(
    text,
    /^tessera_http_requests_total\{method="GET",route="\/v2\/models\/:name\/ready",status="404",model="unknown"/m,
    'unknown names share one label value',
  );
  assert.match(text, /^tessera_http_request_duration_seconds_count\{[^}]*route="\/predict",model="token-sum"/m);
  assert.doesNotMatch(text, /route="\/(live|ready|health|metrics)"|route="\/v2\/health/);
});

test('Redis going away: requests get 503 and the API stays up', async () => {
  await redis.stop();
  // Whether the worker registry still has its cached answer (then the admission fails) or not
  // (then the registry lookup fails), the answer is the same 503; every Redis call on the path is
  // bounded by REDIS_COMMAND_TIMEOUT_MS, so the request is answered rather than left waiting.
  for (let i = 0; i < 2; i++) {
    const res = await infer();
    assert.equal(res.status, 503, await res.clone().text());
    assert.match(((await res.json()) as { error: string }).error, /Redis/);
  }
  const ready = await fetch(`${base}/ready`);
  assert.equal(ready.status, 503);
  const live = await fetch(`${base}/live`);
  assert.equal(live.status, 200);
  assert.match(await ctx.metrics.registry.metrics(), /^tessera_redis_up\{[^}]*\} 0$/m);
});
