import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reply } from '@tessera/contract';
import { deliverReply } from '../delivery.js';
import { IdempotencyStore } from '../idempotency.js';
import { ReplyListener } from '../reply.js';
import { useTestRedis } from '../testing/redis.js';

/** claimIdempotency-3.lua, through IdempotencyStore.claim, with the delivery that ends a claim. */
const redis = useTestRedis();

test('idempotency: owner, attach, conflict, stored result; the worker fans the reply out', async () => {
  const { conn } = redis;
  const store = new IdempotencyStore(conn, 'idem');
  const listenerA = new ReplyListener(redis.connect(), 'idem:reply:a');
  const listenerB = new ReplyListener(redis.connect(), 'idem:reply:b');
  listenerA.start();
  listenerB.start();
  try {
    assert.deepEqual(await store.claim('k', 'fp', 'job-1', 10_000, listenerA.key), { kind: 'owner' });
    assert.deepEqual(await store.claim('k', 'other', 'job-2', 10_000, listenerB.key), { kind: 'conflict' });
    assert.deepEqual(await store.claim('k', 'fp', 'job-2', 10_000, listenerB.key), {
      kind: 'attach',
      requestId: 'job-1',
    });
    const a = listenerA.wait('job-1', 5000);
    const b = listenerB.wait('job-1', 5000);
    const reply: Reply = {
      requestId: 'job-1',
      ok: true,
      result: { outputs: [], timing: { queueMs: 0, computeMs: 1, batchSize: 1 }, provider: 'cpu', worker: 'w' },
    };
    await deliverReply(
      conn,
      { prefix: 'idem', model: 'm', replyTo: listenerA.key, items: 1, idempotency: { key: 'k', ttlMs: 60_000 } },
      reply,
      60_000,
    );
    assert.deepEqual(await a, reply);
    assert.deepEqual(await b, reply, 'the attached replica got the reply on its own list');
    const later = await store.claim('k', 'fp', 'job-3', 10_000, listenerB.key);
    assert.deepEqual(later, { kind: 'result', reply });
    assert.ok((await conn.pttl('idem:idem:k')) > 10_000, 'a success keeps the key for the idempotency TTL');
  } finally {
    await listenerA.close();
    await listenerB.close();
  }
});
