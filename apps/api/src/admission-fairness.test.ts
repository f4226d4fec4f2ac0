import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Admission, cacheBudgetKeys, deliverReplies, type Delivered } from '@tessera/queue';
import { freePort, startRedis, type RedisHandle } from '@tessera/topology';

/** Per-key shares of the queue cap and the response cache's byte budget, against a real Redis. */
let redis: RedisHandle;
let conn: Redis;

before(async () => {
  redis = await startRedis({
    port: await freePort(),
    dir: path.join(mkdtempSync(path.join(tmpdir(), 'tessera-fairness-')), 'redis'),
  });
  conn = new Redis(redis.url);
});

after(async () => {
  conn?.disconnect();
  await redis?.stop();
});

const inAMinute = () => Date.now() + 60_000;
const req = (requestId: string, owner: string, items = 1, deadline = inAMinute()) => ({
  requestId,
  items,
  deadline,
  share: { owner, maxItems: 4 },
});

test('one key holds at most its share of the cap; other keys still get in; release and expiry give it back', async () => {
  const a = new Admission(conn, 'share1');
  const greedy = await a.admitMany(
    'm',
    [1, 2, 3, 4, 5, 6].map((i) => req(`a${i}`, 'key:a')),
    8,
  );
  assert.deepEqual(greedy.admitted, [true, true, true, true, false, false]);
  assert.deepEqual(greedy.overShare, [false, false, false, false, true, true], 'refused for its share, not the cap');
  const other = await a.admitMany(
    'm',
    [1, 2, 3, 4].map((i) => req(`b${i}`, 'key:b')),
    8,
  );
  assert.deepEqual(other.admitted, [true, true, true, true], 'the greedy key left room for another');
  assert.equal(await a.heldBy('m', 'key:a'), 4);
  await a.release('m', 'a1', 1);
  await a.release('m', 'a1', 1);
  assert.equal(await a.heldBy('m', 'key:a'), 3, 'released once, however often it is called');
  await a.release('m', 'b1', 1);
  assert.equal((await a.admitMany('m', [req('a7', 'key:a')], 8)).admitted[0], true);
  // An entry whose replica died is dropped at its deadline, from its key's share too.
  const c = new Admission(conn, 'share2');
  await c.admitMany('m', [req('lost', 'key:c', 4, Date.now() - 60_000)], 8);
  assert.deepEqual((await c.admitMany('m', [req('next', 'key:c', 4)], 8)).admitted, [true]);
  assert.equal(await c.heldBy('m', 'key:c'), 4);
});

test('a worker reply gives the items back to the key that held them', async () => {
  const a = new Admission(conn, 'share3');
  await a.admitMany('m', [req('r1', 'key:a', 4)], 8);
  const reply: Delivered = {
    delivery: { prefix: 'share3', model: 'm', replyTo: 'share3:reply:x', items: 4 },
    reply: { requestId: 'r1', ok: false, error: { code: 'internal', message: 'x' } },
  };
  await deliverReplies(conn, [reply], 10_000);
  assert.equal(await a.heldBy('m', 'key:a'), 0);
  assert.equal(await a.inFlight('m'), 0);
});

test('the response cache keeps within its byte budget, dropping the oldest entries first', async () => {
  const budget = 8 * 1024;
  const [, , total] = cacheBudgetKeys('budget1');
  const result = {
    outputs: [],
    timing: { queueMs: 0, computeMs: 0, batchSize: 1 },
    provider: 'cpu',
    padding: 'x'.repeat(900),
  };
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
          reply: { requestId: `j${i}`, ok: true, result } as never,
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
  for (const key of kept) await conn.zadd('budget1:cache:index', 'XX', 1, key);
  await store(100);
  assert.ok(Number(await conn.get(total)) < 2 * 1024, 'only the new entry is counted');
});
