import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliverReply } from '../delivery.js';
import { IdempotencyStore } from '../idempotency.js';
import { useTestRedis } from '../testing/redis.js';

/** abandonIdempotency-2.lua, and the failed delivery that frees a claim the same way. */
const redis = useTestRedis();

test('a failed job frees its idempotency key so that a retry computes again; abandon frees only its own claim', async () => {
  const store = new IdempotencyStore(redis.conn, 'idem2');
  assert.equal((await store.claim('k', 'fp', 'job-1', 10_000, 'l')).kind, 'owner');
  await deliverReply(
    redis.conn,
    { prefix: 'idem2', model: 'm', replyTo: 'l', items: 1, idempotency: { key: 'k', ttlMs: 60_000 } },
    { requestId: 'job-1', ok: false, error: { code: 'timeout', message: 'late' } },
    60_000,
  );
  assert.equal((await store.claim('k', 'fp', 'job-2', 10_000, 'l')).kind, 'owner');
  await store.abandon('k', 'job-2');
  assert.equal((await store.claim('k', 'fp', 'job-3', 10_000, 'l')).kind, 'owner');
  await store.abandon('k', 'job-2');
  assert.equal(
    (await store.claim('k', 'fp', 'job-4', 10_000, 'l')).kind,
    'attach',
    "abandoning someone else's claim changes nothing",
  );
});
