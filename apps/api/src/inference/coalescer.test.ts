import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { toWire, type InferJobData, type InferRequestPart, type ModelSpec } from '@tessera/contract';
import { Admission, queueName } from '@tessera/queue';
import { freePort, startRedis, type RedisHandle } from '@tessera/topology';
import { admit } from './admit.js';
import { JobCoalescer, MAX_REQUESTS_PER_JOB, type Schedule } from './coalescer.js';
import { JobEnqueuer } from './enqueue.js';
import type { Blob } from './submission.js';

/** How requests become jobs, against a real Redis and real BullMQ queues. */
let redis: RedisHandle;
let conn: Redis;
const queues = new Map<string, Queue>();

before(async () => {
  redis = await startRedis({
    port: await freePort(),
    dir: path.join(mkdtempSync(path.join(tmpdir(), 'tessera-coalescer-')), 'redis'),
  });
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
});

after(async () => {
  for (const q of queues.values()) await q.close();
  conn?.disconnect();
  await redis?.stop();
});

function setup(prefix: string) {
  const queueFor = (model: string) => {
    const key = `${prefix}/${model}`;
    if (!queues.has(key)) queues.set(key, new Queue(queueName(model), { connection: conn, prefix }));
    return queues.get(key)!;
  };
  const admission = new Admission(conn, prefix);
  const enqueuer = new JobEnqueuer(queueFor, admission, conn, `${prefix}:reply:test`);
  return { queueFor, admission, enqueuer, coalescer: new JobCoalescer(enqueuer) };
}

/** Where a request went: the job that carries it and how many requests share it. */
interface Enqueued {
  jobId: string;
  requests: number;
}

/** A request answered by the response cache during admission: the stored result (JSON). */
interface Cached {
  cached: string;
}

/** Submits one request and goes through the admission step, as the inference path does. */
async function enqueue(
  coalescer: JobCoalescer,
  model: ModelSpec,
  part: InferRequestPart,
  opts: { priority?: number; queueCap: number; lookup?: string },
  blobs: Blob[] = [],
): Promise<Enqueued | Cached> {
  const admission = { requestId: part.requestId, items: part.items, deadline: part.deadline, lookup: opts.lookup };
  const sub = { model, priority: opts.priority, queueCap: opts.queueCap, part, admission, blobs };
  const admitted = await admit(coalescer, sub, undefined);
  return 'cached' in admitted ? admitted : { jobId: admitted.job.jobId, requests: admitted.job.requests };
}

const model = (name: string, maxBatchSize: number): ModelSpec =>
  ({
    name,
    version: '1',
    maxBatchSize,
    maxQueueDelayMs: 0,
    maxItemsPerRequest: 64,
    inputs: [],
    outputs: [],
    executionProviders: ['cpu'],
    labels: {},
    platform: 'onnxruntime_onnx',
    file: '',
  }) as unknown as ModelSpec;

let n = 0;
const part = (items = 1): InferRequestPart => ({
  requestId: `r${++n}`,
  correlationId: `req-${n}`,
  deadline: Date.now() + 60_000,
  items,
  inputs: [toWire({ name: 'x', datatype: 'FP32', shape: [items, 1], data: new Float32Array(items).fill(n) })],
});

/** The job a request went to (it was not answered from the cache). */
function queued(where: Enqueued | Cached): Enqueued {
  assert.ok(!('cached' in where), 'enqueued, not answered from the cache');
  return where;
}

async function jobsOf(queue: Queue): Promise<InferJobData[]> {
  return (await queue.getJobs(['waiting', 'prioritized'])).map((j) => j.data as InferJobData);
}

test('a lone request goes alone, at once', async () => {
  const { coalescer, queueFor } = setup('c1');
  const m = model('m', 64);
  const p = part();
  const where = await enqueue(coalescer, m, p, { queueCap: 100 });
  assert.deepEqual(where, { jobId: p.requestId, requests: 1 });
  const [job] = await jobsOf(queueFor('m'));
  assert.deepEqual(
    job!.requests.map((r) => r.requestId),
    [p.requestId],
  );
  assert.equal(job!.deadline, p.deadline);
});

test('requests arriving together share one job, each keeping its own id, deadline and inputs', async () => {
  const { coalescer, queueFor } = setup('c2');
  const m = model('m', 64);
  const parts = Array.from({ length: 10 }, () => part());
  const where = await Promise.all(parts.map((p) => enqueue(coalescer, m, p, { queueCap: 100 })));
  const jobs = await jobsOf(queueFor('m'));
  assert.ok(jobs.length < parts.length, `${jobs.length} jobs for ${parts.length} requests`);
  assert.deepEqual(
    jobs.flatMap((j) => j.requests.map((r) => r.requestId)).sort(),
    parts.map((p) => p.requestId).sort(),
    'every request is in exactly one job',
  );
  for (const [i, w] of where.entries()) {
    const job = jobs.find((j) => j.requests.some((r) => r.requestId === parts[i]!.requestId))!;
    assert.equal(queued(w).jobId, job.requests[0]!.requestId);
    assert.equal(queued(w).requests, job.requests.length);
  }
  const first = jobs[0]!;
  assert.equal(first.deadline, Math.max(...first.requests.map((r) => r.deadline)));
});

test("a job never holds more items than the model's batch, nor more than the request limit", async () => {
  const { coalescer, queueFor } = setup('c3');
  const small = model('small', 4);
  await Promise.all(Array.from({ length: 10 }, () => enqueue(coalescer, small, part(), { queueCap: 100 })));
  const jobs = await jobsOf(queueFor('small'));
  assert.equal(
    jobs.reduce((s, j) => s + j.requests.length, 0),
    10,
  );
  for (const j of jobs) assert.ok(j.requests.reduce((s, r) => s + r.items, 0) <= 4, 'at most one batch of items');

  const none = model('unbatched', 0);
  const count = MAX_REQUESTS_PER_JOB + 6;
  await Promise.all(Array.from({ length: count }, () => enqueue(coalescer, none, part(), { queueCap: 1000 })));
  const more = await jobsOf(queueFor('unbatched'));
  assert.equal(
    more.reduce((s, j) => s + j.requests.length, 0),
    count,
  );
  for (const j of more) assert.ok(j.requests.length <= MAX_REQUESTS_PER_JOB);
});

test('different priorities never share a job', async () => {
  const { coalescer, queueFor } = setup('c4');
  const m = model('m', 64);
  await Promise.all([1, 9, 1, 9].map((priority) => enqueue(coalescer, m, part(), { priority, queueCap: 100 })));
  const jobs = await jobsOf(queueFor('m'));
  for (const j of jobs) assert.equal(new Set(j.requests.map(() => j.priority)).size, 1);
  assert.deepEqual(jobs.map((j) => j.priority).sort(), [1, 9]);
});

test('requests over the queue cap are refused with 429 one by one; the others are enqueued', async () => {
  const { coalescer, queueFor, admission } = setup('c5');
  const m = model('m', 64);
  const parts = [part(2), part(2), part(2)];
  const settled = await Promise.allSettled(parts.map((p) => enqueue(coalescer, m, p, { queueCap: 5 })));
  assert.deepEqual(
    settled.map((s) => s.status),
    ['fulfilled', 'fulfilled', 'rejected'],
  );
  const err = (settled[2] as PromiseRejectedResult).reason as {
    code: string;
    message: string;
    headers?: Record<string, string>;
  };
  assert.equal(err.code, 'overloaded');
  assert.match(err.message, /^model 'm' is overloaded: 4 items are queued or running \(limit 5\)/);
  assert.equal(await admission.inFlight('m'), 4);
  const jobs = await jobsOf(queueFor('m'));
  assert.deepEqual(
    jobs.flatMap((j) => j.requests.map((r) => r.requestId)).sort(),
    [parts[0]!.requestId, parts[1]!.requestId].sort(),
  );
});

test('while earlier requests wait for answers, a new one waits up to the window for others; an idle replica never waits', async () => {
  const { enqueuer } = setup('c6');
  // Records the delay asked for each group; a group sent after a window goes when the test says so.
  const delays: number[] = [];
  let windowEnds: (() => void) | undefined;
  const schedule: Schedule = (send, delayMs) => {
    delays.push(delayMs);
    if (delayMs > 0) windowEnds = send;
    else setImmediate(send);
  };
  const coalescer = new JobCoalescer(enqueuer, 100, schedule);
  const m = model('m', 64);
  await enqueue(coalescer, m, part(), { queueCap: 100 });
  assert.deepEqual(delays, [0], 'idle: sent on the next turn, no window');
  // The first is not answered yet: the next requests, arriving in different turns, share one job.
  const a = enqueue(coalescer, m, part(), { queueCap: 100 });
  await new Promise((r) => setImmediate(r));
  const b = enqueue(coalescer, m, part(), { queueCap: 100 });
  assert.deepEqual(delays, [0, 100], 'busy: the group waits for the window');
  windowEnds!();
  const [wa, wb] = (await Promise.all([a, b])).map(queued) as [Enqueued, Enqueued];
  assert.equal(wa.jobId, wb.jobId);
  assert.equal(wa.requests, 2);
  for (let i = 0; i < 3; i++) coalescer.answered(m);
  const alone = queued(await enqueue(coalescer, m, part(), { queueCap: 100 }));
  assert.equal(alone.requests, 1);
  assert.deepEqual(delays, [0, 100, 0], 'answered everything: idle again, no window');
});

test('large inputs are stored raw under their own keys before the job is added; refused requests leave none', async () => {
  const { coalescer } = setup('c7');
  const m = model('m', 64);
  const bytes = new Uint8Array(20_000).map((_, i) => i % 251);
  const a = part(2);
  const b = part(2);
  const settled = await Promise.allSettled([
    enqueue(coalescer, m, a, { queueCap: 2 }, [{ key: 'c7:blob:a:0', bytes }]),
    enqueue(coalescer, m, b, { queueCap: 2 }, [{ key: 'c7:blob:b:0', bytes }]),
  ]);
  assert.deepEqual(
    settled.map((s) => s.status),
    ['fulfilled', 'rejected'],
  );
  const stored = await conn.getBuffer('c7:blob:a:0');
  assert.ok(stored && Buffer.compare(stored, Buffer.from(bytes)) === 0, 'the bytes, raw');
  const ttl = await conn.pttl('c7:blob:a:0');
  assert.ok(ttl > 60_000 && ttl <= 125_000, `expires a minute after the deadline (${ttl} ms)`);
  // Its blobs' deletion was sent on this connection before the refusal was answered: Redis has run it.
  assert.equal(await conn.exists('c7:blob:b:0'), 0, 'the refused request left nothing behind');
});

test('the admission answers requests whose response-cache key holds a result: not admitted, not queued, even over the cap', async () => {
  const { coalescer, queueFor, admission } = setup('c8');
  const m = model('m', 64);
  const stored = '{"outputs":[],"timing":{"queueMs":1,"computeMs":2,"batchSize":3},"provider":"cpu","worker":"w"}';
  await conn.set('c8:cache:m:hit', stored);
  const [hit, miss, full, hitWhenFull] = [part(2), part(2), part(2), part(2)];
  const where = await Promise.all(
    [
      enqueue(coalescer, m, hit, { queueCap: 2, lookup: 'c8:cache:m:hit' }),
      enqueue(coalescer, m, miss, { queueCap: 2, lookup: 'c8:cache:m:miss' }),
      // The cap (2 items) is full after `miss`: this one is refused, a hit needs no room.
      enqueue(coalescer, m, full, { queueCap: 2 }),
      enqueue(coalescer, m, hitWhenFull, { queueCap: 2, lookup: 'c8:cache:m:hit' }),
    ].map((p) => p.catch((err: { code: string }) => err.code)),
  );
  assert.deepEqual(where, [
    { cached: stored },
    { jobId: miss.requestId, requests: 1 },
    'overloaded',
    { cached: stored },
  ]);
  assert.equal(await admission.inFlight('m'), 2, 'only the miss was admitted');
  const jobs = await jobsOf(queueFor('m'));
  assert.deepEqual(
    jobs.flatMap((j) => j.requests.map((r) => r.requestId)),
    [miss.requestId],
  );
  assert.equal(
    await conn.exists(queueFor('m').toKey(hit.requestId)),
    0,
    'the job planned with all four (id of the first) left nothing',
  );
});

test('the job add travels with the admission: it is sent before the admission answers, and runs after it', async () => {
  const { coalescer, queueFor, admission } = setup('c9');
  const m = model('m', 64);
  await enqueue(coalescer, m, part(), { queueCap: 100 }); // the queue's connection set-up, once
  const log: string[] = [];
  const send = conn.sendCommand.bind(conn);
  const admitMany = admission.admitMany.bind(admission);
  conn.sendCommand = ((cmd: { name: string; args: unknown[] }, stream?: unknown) => {
    // A script's first key is args[2] (after its text or hash, and the key count).
    const script = cmd.name === 'eval' || cmd.name === 'evalsha';
    log.push(script && String(cmd.args[2]).includes(':admission:') ? 'admission' : script ? 'script' : cmd.name);
    return send(cmd as never, stream as never);
  }) as typeof conn.sendCommand;
  admission.admitMany = (async (...args: Parameters<typeof admitMany>) => {
    const out = await admitMany(...args);
    log.push('admission answered');
    return out;
  }) as typeof admitMany;
  try {
    const r = part();
    assert.deepEqual(queued(await enqueue(coalescer, m, r, { queueCap: 100 })), {
      jobId: r.requestId,
      requests: 1,
    });
    assert.deepEqual(
      log.slice(0, 3),
      ['admission', 'script', 'admission answered'],
      `one round trip: ${log.join(', ')}`,
    );
    assert.deepEqual(
      (await jobsOf(queueFor('m'))).map((j) => j.requests[0]!.requestId).sort(),
      [r.requestId, `r${n - 1}`].sort(),
    );
  } finally {
    conn.sendCommand = send;
    admission.admitMany = admitMany;
  }
});

test('the admission, the job add and the writes that ride along leave in one socket write', async () => {
  const prefix = 'c9w';
  const queueFor = (name: string) => setup(prefix).queueFor(name);
  let rides = 0;
  const enqueuer = new JobEnqueuer(queueFor, new Admission(conn, prefix), conn, `${prefix}:reply:test`, () => {
    rides++;
    void conn.hincrby(`${prefix}:stats`, 'rode', 1);
  });
  const coalescer = new JobCoalescer(enqueuer);
  const m = model('m', 64);
  await enqueue(coalescer, m, part(), { queueCap: 100 }); // the queue's connection set-up, once
  const socket = conn.stream as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  const [write, writev] = [socket._write, socket._writev];
  let writes = 0;
  socket._write = (...args) => (writes++, write.apply(socket, args));
  socket._writev = (...args) => (writes++, writev!.apply(socket, args));
  try {
    const r = part();
    assert.equal(queued(await enqueue(coalescer, m, r, { queueCap: 100 })).jobId, r.requestId);
    assert.equal(writes, 1, 'the hincrby, the admission and the job add in one write');
    assert.equal(rides, 2);
    assert.equal(await conn.hget(`${prefix}:stats`, 'rode'), '2');
  } finally {
    socket._write = write;
    socket._writev = writev;
  }
});

test('a group the admission refuses entirely leaves no job and no key behind', async () => {
  const { coalescer, queueFor } = setup('c10');
  const m = model('m', 64);
  const [a, b] = [part(3), part(3)];
  const settled = await Promise.allSettled([a, b].map((p) => enqueue(coalescer, m, p, { queueCap: 2 })));
  assert.deepEqual(
    settled.map((s) => s.status),
    ['rejected', 'rejected'],
  );
  assert.deepEqual(await jobsOf(queueFor('m')), []);
  assert.deepEqual(await conn.keys('c10:*:m:r*'), [], 'no placeholder left at the planned job key');
});
