import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Scheduler } from '@tessera/batcher';
import { JOB_SCHEMA_VERSION, toWire, type InferJobData, type ModelSpec, type Runner } from '@tessera/contract';
import { loadRepository } from '@tessera/model-repository';
import { queueName } from '@tessera/queue';
import { classifyRunError, InstancePool, isOutOfMemoryError } from '@tessera/runtime';
import { createLogger, initTracing } from '@tessera/telemetry';
import { freePort, startRedis, waitFor, type RedisHandle } from '@tessera/topology';
import { startConsumer } from './job-processor.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { WorkerTracing } from './tracing.js';

/** The worker's consumer against a real Redis, BullMQ and ONNX Runtime (the repository's `affine`). */
const PREFIX = 'jp';
const REPLIES = 'jp:replies';
let redis: RedisHandle;
let conn: Redis;
/** Blocks on the reply list, so that it never stalls the consumer's own commands. */
let listener: Redis;
let queue: Queue;
let consumer: Worker;
let pool: InstancePool;
let metrics: WorkerMetrics;
let affine: ModelSpec;
/** Every run of the model, in items. */
const runs: number[] = [];

before(async () => {
  redis = await startRedis({
    port: await freePort(),
    dir: path.join(mkdtempSync(path.join(tmpdir(), 'tessera-consumer-')), 'redis'),
  });
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  listener = new Redis(redis.url);
  const repository = await loadRepository(process.env.MODEL_REPOSITORY ?? path.resolve('.run/models'));
  affine = repository.get('affine', '1')!;
  const logger = createLogger({ service: 'worker', level: 'warn' });
  pool = new InstancePool({ device: 'cpu', cudaDeviceId: 0, intraOpNumThreads: 1, logger });
  await pool.load(affine);
  const counting: Runner = {
    run: (model, inputs, instance) => (runs.push(inputs[0]!.shape[0]!), pool.run(model, inputs, instance)),
    reset: (model, instance) => pool.reset(model, instance),
  };
  const scheduler = new Scheduler({
    runner: counting,
    isOutOfMemory: isOutOfMemoryError,
    classifyError: classifyRunError,
  });
  metrics = createWorkerMetrics({ worker: 'w1', device: 'cpu', cudaDevice: 0 }, () => scheduler.pending());
  consumer = startConsumer({
    name: 'affine',
    versions: new Map([['1', affine]]),
    scheduler,
    bullConnection: conn,
    replyConnection: conn,
    prefix: PREFIX,
    workerId: 'w1',
    concurrency: { idle: 1, most: 4 },
    lockDurationMs: 5000,
    stalledIntervalMs: 2000,
    logger,
    metrics,
    tracing: new WorkerTracing(initTracing('tessera-worker', undefined), 'w1'),
  });
  queue = new Queue(queueName('affine'), { connection: conn, prefix: PREFIX });
});

after(async () => {
  await consumer?.close();
  await queue?.close();
  await pool?.close();
  conn?.disconnect();
  listener?.disconnect();
  await redis?.stop();
});

/** A job of one request of one item, due at `deadline`. */
function job(id: string, deadline: number): InferJobData {
  const x = { name: 'x', datatype: 'FP32' as const, shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) };
  return {
    v: JOB_SCHEMA_VERSION,
    model: 'affine',
    version: '1',
    replyTo: REPLIES,
    enqueuedAt: Date.now(),
    deadline,
    requests: [{ requestId: id, correlationId: id, deadline, items: 1, inputs: [toWire(x)] }],
  };
}

async function nextReply(): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  const popped = await listener.brpop(REPLIES, 10);
  assert.ok(popped, 'a reply within 10 s');
  return JSON.parse(popped[1]);
}

const outcomes = async (): Promise<Record<string, number>> =>
  Object.fromEntries((await metrics.jobs.get()).values.map((v) => [String(v.labels.outcome), v.value]));

test('a live job is run once and answered; a job already expired at pickup is answered timeout and never run', async () => {
  await queue.add('infer', job('live', Date.now() + 60_000));
  assert.equal((await nextReply()).ok, true);
  assert.deepEqual(runs, [1]);
  assert.deepEqual(await outcomes(), { ok: 1 });

  await queue.add('infer', job('late', Date.now() - 1000));
  const reply = await nextReply();
  assert.equal(reply.ok, false);
  assert.equal(reply.error?.code, 'timeout');
  assert.match(reply.error?.message ?? '', /deadline passed while the request was queued/);
  assert.deepEqual(await outcomes(), { ok: 1, expired: 1 });
  assert.deepEqual(runs, [1], 'the expired request never reached the model');
});

test('idle, the consumer holds one job; a backlog makes it hold more, and batch, until it holds nothing', async () => {
  // A reply goes out before its job is finished in BullMQ.
  await waitFor('an idle consumer', async () => consumer.concurrency === 1, { timeoutMs: 10_000 });
  runs.length = 0;
  await queue.addBulk(
    Array.from({ length: 12 }, (_, i) => ({ name: 'infer', data: job(`burst-${i}`, Date.now() + 60_000) })),
  );
  for (let i = 0; i < 12; i++) assert.equal((await nextReply()).ok, true);
  assert.equal(
    runs.reduce((a, b) => a + b, 0),
    12,
  );
  assert.ok(Math.max(...runs) > 1, `held one at a time, a batch could hold only one item: ${runs.join(' ')}`);
  await waitFor('one held job again', async () => consumer.concurrency === 1, { timeoutMs: 10_000 });
});
