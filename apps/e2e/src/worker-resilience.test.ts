import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startStack, waitFor, type Stack } from '@tessera/topology';
import { metricSum, request } from './http.js';
import { modelRepository } from './repository.js';

/**
 * The worker under a real memory limit: its address space is capped 1.5 GiB above what it uses
 * after loading, and `memory-hog` needs 64 MiB of activations per item, so batches of 64 and 32
 * items (4 and 2 GiB) make ONNX Runtime's allocation fail for real and 16 (1 GiB) fits. The cap
 * covers the whole process, V8's heap included: a headroom that the largest fitting batch fills
 * almost entirely (16 items under 1 GiB, 32 under 2 GiB) left V8 no room to grow while that
 * batch ran, and the worker died of a JavaScript heap OOM instead. 1.5 GiB leaves it 512 MiB.
 */
let stack: Stack;

before(async () => {
  stack = await startStack({
    replicas: 1,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-oom-')),
    // Authentication is not the subject here; the cache is off because repeated identical
    // requests must reach the worker to grow its batch cap back.
    env: { LOG_LEVEL: 'info', AUTH: 'off', RESPONSE_CACHE: 'off', DEFAULT_MODEL: 'affine' },
    workerEnv: { MODELS: 'affine,memory-hog', MEMORY_HEADROOM_MB: '1536', OOM_GROW_AFTER: '2' },
  });
});

after(async () => {
  await stack?.stop();
});

// Item i carries a power of two, so that ONNX Runtime's FP32 sum of 4M copies is exact.
const pow = (i: number) => 2 ** (i % 16);
const hog = (items: number, first: number) => ({
  inputs: [
    {
      name: 'x',
      datatype: 'FP32',
      shape: [items, 4],
      data: Array.from({ length: items }, (_, i) => [pow(first + i), 0, 0, 0]),
    },
  ],
});
const REPEATS = 4194304; // memory-hog's default tiling: 64 MiB of FP32 per item

test('a batch that runs out of memory is halved and retried: no request fails', async () => {
  const gw = stack.gatewayUrl;
  const big = request(`${gw}/v2/models/memory-hog/infer`, { body: hog(64, 1) });
  const small = Array.from({ length: 6 }, (_, k) =>
    request(`${gw}/v2/models/memory-hog/infer`, { body: hog(1, 100 + k) }),
  );
  const [bigRes, ...smallRes] = await Promise.all([big, ...small]);
  assert.equal(bigRes.status, 200, bigRes.text);
  const y = bigRes.body.outputs[0];
  assert.deepEqual(y.shape, [64, 1]);
  y.data.forEach((v: number, i: number) => assert.equal(v, REPEATS * pow(1 + i), `item ${i}`));
  smallRes.forEach((r, k) => {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.outputs[0].data[0], REPEATS * pow(100 + k));
  });

  const metrics = (await request(stack.workerMetricsUrl)).text;
  const log = readFileSync(stack.process('worker-1')!.logFile, 'utf8');
  const entries = (msg: string) =>
    log
      .split('\n')
      .filter((l) => l.includes(`"msg":"${msg}"`))
      .map((l) => JSON.parse(l) as { model: string; cap: number; from: number; to: number; reason?: string });
  // The halving itself, from the worker's own out-of-memory events: 64 items (4 GiB) and then 32
  // (2 GiB) fail for real, each failure halves the cap, and 16 fits. A cap the tuner alone
  // lowered would leave no such events.
  const ooms = entries('out of memory: session recreated, batch cap halved, retrying the same items');
  const steps = ooms.map((e) => `${e.from}→${e.to}`);
  assert.deepEqual(steps.slice(0, 2), ['64→32', '32→16'], `out-of-memory events: ${steps.join(' ')}`);
  for (const e of ooms) assert.equal(e.to, e.from / 2, `every out-of-memory event halves the cap (${steps.join(' ')})`);
  assert.equal(
    metricSum(metrics, 'tessera_worker_oom_events_total', { model: 'memory-hog' }),
    ooms.length,
    'the counter counts the same events',
  );
  const cap = metricSum(metrics, 'tessera_worker_batch_cap', { model: 'memory-hog' });
  assert.match(log, /Failed to allocate memory|bad_alloc/);
  assert.match(log, /batch cap halved/);

  // Successes let the cap climb back (OOM_GROW_AFTER=2 batches per doubling), as the log shows
  // while the 64 items run. A size that ran out of memory twice is retried only after a longer
  // wait, so the cap need not be back at 64 afterwards; without a failure it never shrinks.
  const changes = entries('batch cap changed');
  const halved = changes.findIndex((c) => c.reason === 'oom');
  const history = changes.map((c) => `${c.reason}:${c.cap}`).join(' ');
  assert.ok(
    halved >= 0 && changes.slice(halved).some((c) => c.reason === 'grow'),
    `cap grew back after halving (${history})`,
  );
  for (let i = 0; i < 4; i++)
    assert.equal((await request(`${gw}/v2/models/memory-hog/infer`, { body: hog(1, 1) })).status, 200);
  const after = metricSum((await request(stack.workerMetricsUrl)).text, 'tessera_worker_batch_cap', {
    model: 'memory-hog',
  });
  assert.ok(after >= cap, `successes never shrink the cap (${cap} → ${after})`);
});

test('SIGTERM: the worker answers the jobs it holds itself, exits 0, and nothing is lost', async () => {
  const gw = stack.gatewayUrl;
  const second = await stack.addWorker({ env: { MODELS: 'affine,memory-hog' } });
  const first = stack.process('worker-1')!;
  const redis = new Redis(stack.redisUrl);
  const active = 'tessera:infer.memory-hog:active';
  try {
    // Worker 2 is held still while the requests arrive, and worker 1 is frozen while its active
    // jobs are read and SIGTERM is sent: every job in that list is one worker 1 held when told to stop.
    second.process.signal('SIGSTOP');
    let held: string[] = [];
    const pending = Array.from({ length: 12 }, (_, k) =>
      request(`${gw}/v2/models/memory-hog/infer`, { body: hog(2, k) }),
    );
    try {
      await waitFor('worker 1 to hold jobs', async () => (await redis.llen(active)) > 0, { intervalMs: 5 });
      first.signal('SIGSTOP');
      held = await redis.lrange(active, 0, -1);
      first.signal('SIGTERM');
    } finally {
      first.signal('SIGCONT');
      second.process.signal('SIGCONT');
    }
    const results = await Promise.all(pending);
    results.forEach((r, k) => {
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.outputs[0].data[1], REPEATS * pow(k + 1));
    });
    const exit = await first.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    // Each held job finished after SIGTERM, answered by worker 1 itself (its return value names
    // the worker), not re-queued for worker 2.
    assert.ok(held.length > 0);
    for (const id of held) {
      const summary = JSON.parse((await redis.hget(`tessera:infer.memory-hog:${id}`, 'returnvalue')) ?? '{}') as {
        requests?: Record<string, { ok: boolean; result?: { worker: string } }>;
      };
      const answers = Object.values(summary.requests ?? {});
      assert.ok(answers.length > 0, `job ${id} completed with a summary`);
      for (const a of answers) assert.equal(a.result?.worker, 'worker-1', `job ${id}: ${JSON.stringify(a)}`);
    }
  } finally {
    redis.disconnect();
  }
});
