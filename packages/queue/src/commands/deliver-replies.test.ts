import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reply } from '@tessera/contract';
import { Admission } from '../admission.js';
import { CACHE_ENTRY_OVERHEAD_BYTES } from '../cache-budget.js';
import { deliverReplies, deliverReply, type Delivered } from '../delivery.js';
import { IdempotencyStore } from '../idempotency.js';
import { RedisKeys } from '../keys.js';
import { ReplySender } from '../reply-sender.js';
import { inAMinute, useTestRedis } from '../testing/redis.js';

/** deliverReplies-n.lua (with includes/storeCached.lua), through deliverReply(ies) and ReplySender. */
const redis = useTestRedis();

const result = {
  outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [1], b64: 'AACAPw==' }],
  timing: { queueMs: 1, computeMs: 2, batchSize: 3 },
  provider: 'cpu',
  worker: 'w',
};

test('a delivered success is stored in the response cache with its TTL, alongside an idempotent reply; failures and oversized results are not', async () => {
  const { conn } = redis;
  const cache = (key: string, maxBytes = 10_000) => ({ key, ttlMs: 30_000, maxBytes });
  const admission = new Admission(conn, 'cache1');
  await admission.admit('m', 'job-1', 1, 8, inAMinute());
  const ok: Reply = { requestId: 'job-1', ok: true, result };
  const base = { prefix: 'cache1', model: 'm', replyTo: 'cache1:l', items: 1 };
  const first = { ...base, cache: cache('cache1:cache:m:a'), idempotency: { key: 'k', ttlMs: 60_000 } };
  assert.equal(await deliverReply(conn, first, ok, 60_000), true);
  const stored = (await conn.get('cache1:cache:m:a'))!;
  assert.deepEqual(JSON.parse(stored), result, 'the result itself');
  const ttl = await conn.pttl('cache1:cache:m:a');
  assert.ok(ttl > 25_000 && ttl <= 30_000, `the cache TTL (${ttl} ms)`);
  const cost = stored.length + 2 * 'cache1:cache:m:a'.length + CACHE_ENTRY_OVERHEAD_BYTES;
  assert.equal(
    Number(await conn.get(new RedisKeys('cache1').cacheBudget.total)),
    cost,
    'the entry costs what it should',
  );
  assert.deepEqual(JSON.parse((await conn.rpop('cache1:l'))!), ok, 'the reply is intact');
  assert.equal(await admission.inFlight('m'), 0, 'the admission entry was released');
  assert.deepEqual(JSON.parse((await conn.get('cache1:idem:k:result'))!), ok, 'the idempotent result too');

  const big = { ...ok, requestId: 'job-2' };
  assert.equal(await deliverReply(conn, { ...base, cache: cache('cache1:cache:m:big', 50) }, big, 60_000), false);
  assert.equal(await conn.exists('cache1:cache:m:big'), 0, 'over the size bound');
  assert.deepEqual(JSON.parse((await conn.rpop('cache1:l'))!), big, 'still replied');

  const failed: Reply = { requestId: 'job-3', ok: false, error: { code: 'timeout', message: 'late' } };
  assert.equal(await deliverReply(conn, { ...base, cache: cache('cache1:cache:m:c') }, failed, 60_000), false);
  assert.equal(await conn.exists('cache1:cache:m:c'), 0, 'failures are never cached');
});

test('replies of one batch share one script; each one still does all of its own work', async () => {
  const { conn } = redis;
  const admission = new Admission(conn, 'many');
  const share = { owner: 'key:a', maxItems: 100 };
  for (let i = 0; i < 6; i++)
    await admission.admitMany('m', [{ requestId: `job-${i}`, items: 2, deadline: inAMinute(), share }], 100);
  const store = new IdempotencyStore(conn, 'many');
  assert.equal((await store.claim('k4', 'fp', 'job-4', 10_000, 'many:a')).kind, 'owner');
  assert.equal((await store.claim('k4', 'fp', 'retry', 10_000, 'many:c')).kind, 'attach');
  const base = { prefix: 'many', model: 'm', items: 2 };
  const ok = (i: number): Reply => ({ requestId: `job-${i}`, ok: true, result });
  const delivered: Delivered[] = [
    { delivery: { ...base, replyTo: 'many:a' }, reply: ok(0) },
    {
      delivery: { ...base, replyTo: 'many:b', cache: { key: 'many:cache:1', ttlMs: 30_000, maxBytes: 10_000 } },
      reply: ok(1),
    },
    {
      delivery: { ...base, replyTo: 'many:a', cache: { key: 'many:cache:2', ttlMs: 30_000, maxBytes: 10_000 } },
      reply: { requestId: 'job-2', ok: false, error: { code: 'internal', message: 'x' } },
    },
    { delivery: { ...base, replyTo: 'many:b' }, reply: ok(3) },
    { delivery: { ...base, replyTo: 'many:a', idempotency: { key: 'k4', ttlMs: 60_000 } }, reply: ok(4) },
  ];
  const calls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await conn.info('commandstats'))?.[1] ?? 0);
  const sender = new ReplySender(conn, 60_000);
  await sender.send(delivered[0]!); // loads the script
  const before = await calls();
  await Promise.all(delivered.slice(1).map((d) => sender.send(d)));
  assert.equal((await calls()) - before, 1, 'four replies sent in one turn: one script');
  const jobsIn = async (list: string) =>
    (await conn.lrange(list, 0, -1)).map((r) => (JSON.parse(r) as Reply).requestId).sort();
  assert.deepEqual(await jobsIn('many:a'), ['job-0', 'job-2', 'job-4']);
  assert.deepEqual(await jobsIn('many:b'), ['job-1', 'job-3']);
  assert.deepEqual(await jobsIn('many:c'), ['job-4'], 'the attached retry is answered too');
  assert.equal(await admission.inFlight('m'), 2, 'five entries released, one (job-5) left');
  assert.equal(await admission.heldBy('m', 'key:a'), 2, 'and given back to the key that held them');
  assert.deepEqual(JSON.parse((await conn.get('many:cache:1'))!), result, 'a success is cached');
  assert.equal(await conn.exists('many:cache:2'), 0, 'a failure is not');
  assert.deepEqual(JSON.parse((await conn.get('many:idem:k4:result'))!), ok(4), 'the idempotent result is stored');
  assert.deepEqual(await deliverReplies(conn, [], 60_000), [], 'nothing to send: no script');
});

test('the response cache keeps within its byte budget, dropping the oldest entries first', async () => {
  const { conn } = redis;
  const budget = 8 * 1024;
  const { index, total } = new RedisKeys('budget1').cacheBudget;
  const padded = { ...result, padding: 'x'.repeat(900) };
  const store = (i: number) =>
    deliverReplies(
      conn,
      [
        {
          delivery: {
            prefix: 'budget1',
            model: 'm',
            replyTo: 'budget1:reply:x',
            items: 1,
            cache: { key: `budget1:cache:k:a:m:${i}`, ttlMs: 60_000, maxBytes: 1 << 20, budgetBytes: budget },
          },
          reply: { requestId: `j${i}`, ok: true, result: padded },
        },
      ],
      10_000,
    );
  for (let i = 0; i < 40; i++) {
    assert.deepEqual(await store(i), [true]);
    assert.ok(Number(await conn.get(total)) <= budget, `within the budget after entry ${i}`);
  }
  const kept = await conn.keys('budget1:cache:k:a:m:*');
  assert.ok(kept.length >= 5 && kept.length < 10, `about budget / entry size entries are kept: ${kept.length}`);
  assert.ok(await conn.exists('budget1:cache:k:a:m:39'), 'the newest is kept');
  assert.equal(await conn.exists('budget1:cache:k:a:m:0'), 0, 'the oldest went');
  // Entries whose TTL ran out (as if expired long ago) are taken off the books at the next store.
  await conn.del(...kept);
  for (const key of kept) await conn.zadd(index, 'XX', 1, key);
  await store(100);
  assert.ok(Number(await conn.get(total)) < 2 * 1024, 'only the new entry is counted');
});
