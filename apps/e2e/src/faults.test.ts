import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { prepareRepository } from '@tessera/model-zoo';
import { createApiKey, startStack, type ManagedProcess, type Stack } from '@tessera/topology';
import { authorize, metricSum, request, waitFor } from './http.js';
import { affine, affineAnswer, costReferences, startLoad } from './load.js';

/**
 * Faults of our own processes under a real stack, each short and event-driven: a replica killed
 * after enqueueing, Redis frozen and killed, a worker killed while it holds jobs. The supervisor
 * (restart: true) brings every dead process back, as under `npm start`.
 */
let stack: Stack;
let gw: string;
let redis: Redis;

before(async () => {
  // `cost` made heavy enough (32 layers of 512) that a worker holds jobs for a while.
  const repo = mkdtempSync(path.join(tmpdir(), 'tessera-faults-models-'));
  await prepareRepository(repo, { only: 'test', cost: { dim: 512, layers: 32 } });
  stack = await startStack({
    replicas: 2,
    workers: 2,
    restart: true,
    modelRepository: repo,
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-faults-')),
    // What a restart must find again. Append-only, fsync every second: a kill -9 of the process
    // loses nothing that Redis acknowledged (the page cache survives it).
    redisArgs: ['--appendonly', 'yes', '--appendfsync', 'everysec'],
    env: { LOG_LEVEL: 'warn', DEFAULT_MODEL: 'affine', RESPONSE_CACHE: 'off' },
    // A dead worker's jobs move within max(2, 1) + 1 = 3 s (workerRecoveryBoundMs).
    workerEnv: { MODELS: 'affine,cost', LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' },
  });
  gw = stack.gatewayUrl;
  authorize((await createApiKey({ redisUrl: stack.redisUrl, name: 'faults', scopes: ['infer', 'admin'] })).key);
  redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
});

after(async () => {
  redis?.disconnect();
  await stack?.stop();
});

const admin = (action: string, model: string) => request(`${gw}/admin/models/${model}/${action}`, { method: 'POST' });
const queued = async (model: string) => {
  const { counts } = (await request(`${gw}/admin/models/${model}`)).body;
  return counts.waiting + counts.prioritized + counts.paused;
};
const computed = async (model: string) => {
  let n = 0;
  for (const url of stack.workerMetricsUrls)
    n += metricSum((await request(url)).text, 'tessera_worker_jobs_total', { model, outcome: 'ok' });
  return n;
};
/** The process that replaces `old` under the supervisor, once it runs. */
const replacement = (name: string, old: ManagedProcess) =>
  waitFor(
    `${name} to be restarted`,
    async () => {
      const now = stack.process(name);
      return now && now !== old && now.running ? now : undefined;
    },
    60_000,
  );

test('a replica killed after enqueueing: the job still runs, and a retry with its Idempotency-Key gets the answer', async () => {
  const jobs = await computed('affine');
  assert.equal((await admin('pause', 'affine')).status, 200);
  const headers = { 'idempotency-key': 'fault-replica-1' };
  const row = [1, 2, 3, 4];
  const original = request(`${stack.apiUrls[0]}/v2/models/affine/infer`, { body: affine(row), headers }).catch(
    (err: Error) => err,
  );
  await waitFor('the job to be queued', async () => (await queued('affine')) === 1);
  const api1 = stack.process('api-1')!;
  api1.signal('SIGKILL');
  assert.ok((await original) instanceof Error, 'the client of the dead replica lost its connection');
  assert.equal((await admin('resume', 'affine')).status, 200);
  const retry = await request(`${gw}/v2/models/affine/infer`, { body: affine(row), headers });
  assert.equal(retry.status, 200, retry.text);
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(retry.body.outputs.find((o: { name: string }) => o.name === 'y').data, affineAnswer(row));
  assert.equal(await computed('affine'), jobs + 1, 'computed once');
});

test('Redis frozen (SIGSTOP): every request and the readiness probe get a JSON 503 while it is frozen; all is well after SIGCONT', async () => {
  const proc = stack.process('redis')!;
  proc.signal('SIGSTOP');
  try {
    // Each of these settles while Redis is still stopped (SIGCONT comes only after), so every
    // call on the request path is bounded; a hang would end at the 30 s deadline as a 504.
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => request(`${gw}/v2/models/affine/infer`, { body: affine([i, 0, 0, 0]) })),
      request(`${gw}/v2/health/ready`),
      request(`${stack.apiUrls[1]}/ready`),
    ]);
    for (const res of answers) {
      assert.equal(res.status, 503, res.text);
      assert.equal(res.body.code ?? (res.body.ready === false ? 'not_ready' : undefined), 'not_ready', res.text);
      assert.match(res.body.error, /Redis/);
    }
  } finally {
    proc.signal('SIGCONT');
  }
  await stack.waitReady(30_000);
  const res = await request(`${gw}/v2/models/affine/infer`, { body: affine([5, 6, 7, 8]) });
  assert.equal(res.status, 200, res.text);
});

test('Redis killed (kill -9): restarted by the supervisor with its data; a queued request, the API key and the paused state survive', async () => {
  assert.equal((await admin('pause', 'affine')).status, 200);
  const row = [9, 8, 7, 6];
  const waiting = request(`${gw}/v2/models/affine/infer`, { body: affine(row) });
  await waitFor('the job to be queued', async () => (await queued('affine')) === 1);
  const old = stack.process('redis')!;
  old.signal('SIGKILL');
  await replacement('redis', old);
  await waitFor(
    'the API to reach Redis again',
    async () => (await request(`${stack.apiUrls[1]}/ready`)).body.redis === true,
    30_000,
  );
  // Still paused after the restart: nothing ran the job meanwhile.
  const status = (await request(`${gw}/admin/models/affine`)).body;
  assert.equal(status.paused, true, JSON.stringify(status));
  assert.equal(status.counts.waiting + status.counts.prioritized + status.counts.paused, 1, JSON.stringify(status));
  assert.equal((await admin('resume', 'affine')).status, 200);
  const res = await waiting;
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.outputs.find((o: { name: string }) => o.name === 'y').data, affineAnswer(row));
  await stack.waitReady(30_000);
});

test('a worker killed (kill -9) while it holds jobs under load: its jobs run on the other worker, every request is answered correctly', async () => {
  // Worker 2 is held still (SIGSTOP) while the load starts, so that every active job belongs to
  // worker 1 when it is killed; worker 2 resumes at once and recovers them.
  const references = await costReferences(gw, 512);
  const w1 = stack.process('worker-1')!;
  const w2 = stack.process('worker-2')!;
  w2.signal('SIGSTOP');
  const load = startLoad(gw, { clients: 6, model: 'cost', references });
  let results;
  try {
    try {
      // Worker 1 is stopped before the active list is read, and given a moment for what it had
      // already written to reach Redis: a job it held can no longer finish between the read and
      // the kill (which left nothing to recover and nothing in worker 2's log).
      await waitFor('worker 1 to hold jobs', async () => {
        w1.signal('SIGSTOP');
        await new Promise((resolve) => setTimeout(resolve, 50));
        if ((await redis.llen('tessera:infer.cost:active')) > 0) return true;
        w1.signal('SIGCONT');
        return false;
      });
    } finally {
      w1.signal('SIGKILL');
      w2.signal('SIGCONT');
    }
    await waitFor(
      "worker 2 to recover the dead worker's jobs",
      async () => readFileSync(w2.logFile, 'utf8').includes('job stalled'),
      60_000,
    );
  } finally {
    results = await load.stop();
  }
  assert.ok(results.length > 0);
  const wrong = results.filter((r) => r.status !== 200 || !r.correct);
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${results.length} requests failed or were wrong`);
});
