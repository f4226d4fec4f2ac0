import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceStatistics } from './statistics.js';
import { useTestRedis } from './testing/redis.js';

const redis = useTestRedis();

const hincrbyCalls = async () =>
  Number(/cmdstat_hincrby:calls=(\d+)/.exec(await redis.conn.info('commandstats'))?.[1] ?? 0);

test('records made together are summed into one write, and each record settles once written', async () => {
  const stats = new InferenceStatistics(redis.conn, 'stats-test');
  const before = await hincrbyCalls();
  const ok = { ok: true as const, items: 2, totalMs: 3, queueMs: 1, computeMs: 1, cache: 'miss' as const };
  await Promise.all([
    stats.recordRequest('m', '1', ok),
    stats.recordRequest('m', '1', ok),
    stats.recordRequest('m', '1', { ok: false, totalMs: 5 }),
    stats.recordExecution('m', '1', 4, 2),
  ]);
  const read = await stats.read('m', '1');
  assert.equal(read.inference_count, 4);
  assert.deepEqual(read.inference_stats.success, { count: 2, ns: 6_000_000 });
  assert.deepEqual(read.inference_stats.fail, { count: 1, ns: 5_000_000 });
  assert.equal(read.execution_count, 1);
  assert.deepEqual(read.batch_stats[0]?.compute_infer, { count: 1, ns: 2_000_000 });
  assert.ok(read.last_inference > 0);
  // One HINCRBY per field (success, fail, queue, compute_infer, cache_miss: count and ns each;
  // inference_count; execution and batch size: 3), not one per field and record.
  assert.equal((await hincrbyCalls()) - before, 14);
});

test('flush writes what waits at once', async () => {
  const stats = new InferenceStatistics(redis.conn, 'stats-flush', 60_000);
  const recorded = stats.recordExecution('m', '1', 1, 1);
  await stats.flush();
  await recorded;
  assert.equal((await stats.read('m', '1')).execution_count, 1);
});

test('leading, on an auto-pipelined connection: a record goes in the same socket write as its turn’s commands; the next ones wait for the window', async () => {
  const conn = redis.connect({ enableAutoPipelining: true });
  try {
    await conn.ping();
    const stats = new InferenceStatistics(conn, 'stats-turn', 200, true);
    let writes = 0;
    const write = conn.stream.write.bind(conn.stream);
    conn.stream.write = ((...args: Parameters<typeof write>) => (writes++, write(...args))) as typeof conn.stream.write;
    const recorded = stats.recordExecution('m', '1', 2, 1);
    // Sent later in the same turn, as the worker sends a batch's replies after its statistics.
    const other = new Promise((resolve) => setImmediate(() => resolve(conn.set('stats-turn:other', '1'))));
    await Promise.all([recorded, other]);
    assert.equal(writes, 1, 'one write for the counts and the other command');
    const before = await hincrbyCalls();
    await Promise.all([stats.recordExecution('m', '1', 2, 1), stats.recordExecution('m', '1', 2, 1)]);
    assert.equal((await hincrbyCalls()) - before, 3, 'records within the window are summed into one write');
    assert.equal((await stats.read('m', '1')).execution_count, 3);
  } finally {
    conn.disconnect();
  }
});
