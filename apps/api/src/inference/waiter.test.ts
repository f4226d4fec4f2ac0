import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { JOB_SCHEMA_VERSION, type InferJobData, type ModelSpec, type ServiceError } from '@tessera/contract';
import { Admission, INFER_JOB_OPTIONS, queueName, ReplyListener } from '@tessera/queue';
import { createLogger } from '@tessera/telemetry';
import { freePort, startRedis, type RedisHandle } from '@tessera/topology';
import type { EnqueuedJob } from './enqueue.js';
import { Waiter } from './waiter.js';

/** A client going away, against a real Redis and a real BullMQ queue (no worker takes the jobs). */
let redis: RedisHandle;
let conn: Redis;
let queue: Queue;
let replies: ReplyListener;
let waiter: Waiter;
const model = { name: 'm', version: '1' } as ModelSpec;

before(async () => {
  redis = await startRedis({
    port: await freePort(),
    dir: path.join(mkdtempSync(path.join(tmpdir(), 'tessera-waiter-')), 'redis'),
  });
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  queue = new Queue(queueName('m'), { connection: conn, prefix: 'w' });
  replies = new ReplyListener(new Redis(redis.url, { maxRetriesPerRequest: null }), 'w:reply:test');
  replies.start();
  waiter = new Waiter(
    () => queue,
    replies,
    new Admission(conn, 'w'),
    createLogger({ service: 'api', level: 'silent' }),
  );
});

after(async () => {
  await replies?.close();
  await queue?.close();
  conn?.disconnect();
  await redis?.stop();
});

/** A queued job carrying these requests, as the enqueue leaves it. */
async function queued(requestIds: string[]): Promise<EnqueuedJob> {
  const jobId = requestIds[0]!;
  const data = {
    v: JOB_SCHEMA_VERSION,
    model: 'm',
    version: '1',
    replyTo: replies.key,
    enqueuedAt: Date.now(),
    deadline: Date.now() + 60_000,
    requests: requestIds.map((requestId) => ({
      requestId,
      correlationId: requestId,
      deadline: 0,
      items: 1,
      inputs: [],
    })),
  } satisfies InferJobData;
  await queue.add('infer', data, { ...INFER_JOB_OPTIONS, jobId });
  return { jobId, requests: requestIds.length, waiting: requestIds.length, kept: false };
}

/** A request waiting for its reply; `leave()` is its client going away, resolved once the waiter has acted on it. */
function waiting(requestId: string, job: EnqueuedJob, idempotent = false) {
  const client = new AbortController();
  const answer = waiter.wait(
    model,
    { requestId, items: 1 },
    waiter.expect(requestId, 60_000),
    job,
    60_000,
    client.signal,
    idempotent,
  );
  const leave = async () => {
    client.abort();
    await assert.rejects(answer, (err: ServiceError) => err.code === 'client_closed_request');
  };
  return { answer, leave };
}

const stillQueued = async (jobId: string) => (await queue.getJob(jobId)) !== undefined;

test('a lone request whose client goes away withdraws its job', async () => {
  const job = await queued(['lone']);
  await waiting('lone', job).leave();
  assert.equal(await stillQueued('lone'), false);
});

test('a shared job stays queued for the requests still waiting, and goes when the last client leaves', async () => {
  const job = await queued(['s1', 's2', 's3']);
  const [a, b, c] = [waiting('s1', job), waiting('s2', job), waiting('s3', job)];
  await a.leave();
  assert.equal(await stillQueued('s1'), true, 'two requests still wait for it');
  await c.leave();
  assert.equal(await stillQueued('s1'), true, 'one request still waits for it');
  await b.leave();
  assert.equal(await stillQueued('s1'), false, 'nobody waits for it any more');
});

test('the job of an idempotent request whose client went away stays queued for its retry', async () => {
  const job = await queued(['i1', 'i2']);
  await waiting('i1', job, true).leave();
  await waiting('i2', job).leave();
  assert.equal(await stillQueued('i1'), true);
});
