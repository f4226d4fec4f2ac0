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
