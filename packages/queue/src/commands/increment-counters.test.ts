import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestRedis } from '../testing/redis.js';
import { incrementCounters } from './increment-counters.js';

/**
 * incrementCounters-n.lua: the API's shared rate-limit counters (the store that batches its calls
 * is tested in apps/api).
 */
const redis = useTestRedis();

test('counters add their hits and report their totals and windows; a counter without an expiry gets one', async () => {
  const { conn } = redis;
  await conn.set('c:stale', '7');
  const out = await incrementCounters.run(conn, {
    windowMs: 60_000,
    counters: [
      { key: 'c:a', hits: 3 },
      { key: 'c:stale', hits: 1 },
    ],
  });
  assert.deepEqual(
    out.map((c) => c.total),
    [3, 8],
  );
  for (const [i, key] of ['c:a', 'c:stale'].entries()) {
    const ttl = await conn.pttl(key);
    assert.ok(ttl > 59_000 && ttl <= 60_000, `${key} expires with its window (${ttl} ms)`);
    assert.ok(out[i]!.ttlMs > 59_000 && out[i]!.ttlMs <= 60_000);
  }
  const again = await incrementCounters.run(conn, { windowMs: 60_000, counters: [{ key: 'c:a', hits: 2 }] });
  assert.equal(again[0]!.total, 5, 'the window goes on');
});
