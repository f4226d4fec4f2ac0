import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Reply } from '@tessera/contract';
import { Admission, deliverReplies, deliverReply, IdempotencyStore, ReplyListener, ReplySender } from '@tessera/queue';
import { freePort, startRedis, type RedisHandle } from '@tessera/topology';

/** The Lua scripts of the queue cap and of idempotency, against a real Redis. */
let redis: RedisHandle;
let conn: Redis;

before(async () => {
  redis = await startRedis({
    port: await freePort(),
    dir: path.join(mkdtempSync(path.join(tmpdir(), 'tessera-admission-')), 'redis'),
  });
  conn = new Redis(redis.url);
});

after(async () => {
  conn?.disconnect();
  await redis?.stop();
});

const inAMinute = () => Date.now() + 60_000;

test('admission counts items up to the cap; release is idempotent', async () => {
  const a = new Admission(conn, 'cap1');
  assert.deepEqual(await a.admit('m', 'j1', 3, 8, inAMinute()), { admitted: true, inFlight: 3 });
  assert.deepEqual(await a.admit('m', 'j2', 5, 8, inAMinute()), { admitted: true, inFlight: 8 });
  assert.deepEqual(await a.admit('m', 'j3', 1, 8, inAMinute()), { admitted: false, inFlight: 8 });
  await a.release('m', 'j1', 3);
  await a.release('m', 'j1', 3);
  assert.equal(await a.inFlight('m'), 5);
  assert.equal((await a.admit('m', 'j4', 3, 8, inAMinute())).admitted, true);
  assert.equal((await a.admit('m', 'j5', 1, 8, inAMinute())).admitted, false);
});

test('entries of a crashed replica expire with their deadline instead of leaking', async () => {
  const a = new Admission(conn, 'cap2');
  // Admitted with a deadline long past (its grace included): as if the replica died holding it.
  assert.equal((await a.admit('m', 'lost', 8, 8, Date.now() - 60_000)).admitted, true);
  const next = await a.admit('m', 'fresh', 2, 8, inAMinute());
  assert.deepEqual(next, { admitted: true, inFlight: 2 });
});

test('admission takes rate-limit counts in order; a request over its limit is neither looked up nor admitted', async () => {
  const a = new Admission(conn, 'rate1');
  await conn.set('rate1:cache:hit', '{"cached":true}');
  const rate = { key: 'rate1:ratelimit:key:k1', limit: 3, windowMs: 60_000 };
  const other = { key: 'rate1:ratelimit:key:k2', limit: 3, windowMs: 60_000 };
  const r = (requestId: string, extra: object = {}) => ({ requestId, items: 1, deadline: inAMinute(), ...extra });
  const out = await a.admitMany(
    'm',
    [
      r('a', { rate }),
      r('b', { rate, lookup: 'rate1:cache:hit' }),
      r('c', { rate: other }),
      r('d', { rate }),
      r('e', { rate, lookup: 'rate1:cache:hit' }),
      r('f'),
    ],
    100,
  );
  assert.deepEqual(
    out.rate.map((s) => s?.count),
    [1, 2, 1, 3, 4, undefined],
    'one count per request, in order, per key',
  );
  assert.deepEqual(out.limited, [false, false, false, false, true, false]);
  assert.deepEqual(
    out.admitted,
    [true, false, true, true, false, true],
    'over the limit: not admitted, even with a cached result',
  );
  assert.deepEqual(out.cached, [undefined, '{"cached":true}', undefined, undefined, undefined, undefined]);
  assert.equal(out.inFlight, 4);
  const left = out.rate[0]!.resetMs;
  assert.ok(left > 59_000 && left <= 60_000, `a new counter starts its window: ${left} ms left`);
  const ttl = await conn.pttl(rate.key);
  assert.ok(ttl > 59_000 && ttl <= 60_000, `the counter expires with its window (${ttl} ms)`);
  // The next script continues the same count.
  const next = await a.admitMany('m', [r('g', { rate })], 100);
  assert.deepEqual([next.rate[0]?.count, next.limited[0], next.admitted[0]], [5, true, false]);
});

test('idempotency: owner, attach, conflict, stored result; the worker fans the reply out', async () => {
  const store = new IdempotencyStore(conn, 'idem');
  const listenerA = new ReplyListener(new Redis(redis.url), 'idem:reply:a');
  const listenerB = new ReplyListener(new Redis(redis.url), 'idem:reply:b');
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

test('a failed job frees its idempotency key so that a retry computes again', async () => {
  const store = new IdempotencyStore(conn, 'idem2');
  assert.equal((await store.claim('k', 'fp', 'job-1', 10_000, 'l')).kind, 'owner');
  await deliverReply(
    conn,
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

test('a delivered success is stored in the response cache with its TTL, alongside an idempotent reply; failures and oversized results are not', async () => {
  const result = {
    outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [1], b64: 'AACAPw==' }],
    timing: { queueMs: 1, computeMs: 2, batchSize: 3 },
    provider: 'cpu',
    worker: 'w',
  };
  const cache = (key: string, maxBytes = 10_000) => ({ key, ttlMs: 30_000, maxBytes });
  const admission = new Admission(conn, 'cache1');
  await admission.admit('m', 'job-1', 1, 8, inAMinute());
  const ok: Reply = { requestId: 'job-1', ok: true, result };
  assert.equal(
    await deliverReply(
      conn,
      {
        prefix: 'cache1',
        model: 'm',
        replyTo: 'cache1:l',
        items: 1,
        cache: cache('cache1:cache:m:a'),
        idempotency: { key: 'k', ttlMs: 60_000 },
      },
      ok,
      60_000,
    ),
    true,
  );
  assert.deepEqual(JSON.parse((await conn.get('cache1:cache:m:a'))!), result, 'the result itself');
  const ttl = await conn.pttl('cache1:cache:m:a');
  assert.ok(ttl > 25_000 && ttl <= 30_000, `the cache TTL (${ttl} ms)`);
  assert.deepEqual(JSON.parse((await conn.rpop('cache1:l'))!), ok, 'the reply is intact');
  assert.equal(await admission.inFlight('m'), 0, 'the admission entry was released');
  assert.deepEqual(JSON.parse((await conn.get('cache1:idem:k:result'))!), ok, 'the idempotent result too');

  assert.equal(
    await deliverReply(
      conn,
      { prefix: 'cache1', model: 'm', replyTo: 'cache1:l', items: 1, cache: cache('cache1:cache:m:big', 50) },
      { ...ok, requestId: 'job-2' },
      60_000,
    ),
    false,
  );
  assert.equal(await conn.exists('cache1:cache:m:big'), 0, 'over the size bound');
  assert.deepEqual(JSON.parse((await conn.rpop('cache1:l'))!), { ...ok, requestId: 'job-2' }, 'still replied');

  const failed: Reply = { requestId: 'job-3', ok: false, error: { code: 'timeout', message: 'late' } };
  assert.equal(
    await deliverReply(
      conn,
      { prefix: 'cache1', model: 'm', replyTo: 'cache1:l', items: 1, cache: cache('cache1:cache:m:c') },
      failed,
      60_000,
    ),
    false,
  );
  assert.equal(await conn.exists('cache1:cache:m:c'), 0, 'failures are never cached');
});

test('replies of one batch share one script; each one still does all of its own work', async () => {
  const result = {
    outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [1], b64: 'AACAPw==' }],
    timing: { queueMs: 1, computeMs: 2, batchSize: 3 },
    provider: 'cpu',
    worker: 'w',
  };
  const admission = new Admission(conn, 'many');
  for (let i = 0; i < 6; i++) await admission.admit('m', `job-${i}`, 2, 100, inAMinute());
  const store = new IdempotencyStore(conn, 'many');
  assert.equal((await store.claim('k4', 'fp', 'job-4', 10_000, 'many:a')).kind, 'owner');
  assert.equal((await store.claim('k4', 'fp', 'retry', 10_000, 'many:c')).kind, 'attach');
  const base = { prefix: 'many', model: 'm', items: 2 };
  const ok = (i: number): Reply => ({ requestId: `job-${i}`, ok: true, result });
  const delivered = [
    { delivery: { ...base, replyTo: 'many:a' }, reply: ok(0) },
    {
      delivery: { ...base, replyTo: 'many:b', cache: { key: 'many:cache:1', ttlMs: 30_000, maxBytes: 10_000 } },
      reply: ok(1),
    },
    {
      delivery: { ...base, replyTo: 'many:a', cache: { key: 'many:cache:2', ttlMs: 30_000, maxBytes: 10_000 } },
      reply: { requestId: 'job-2', ok: false, error: { code: 'internal', message: 'x' } } as Reply,
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
  assert.deepEqual(JSON.parse((await conn.get('many:cache:1'))!), result, 'a success is cached');
  assert.equal(await conn.exists('many:cache:2'), 0, 'a failure is not');
  assert.deepEqual(JSON.parse((await conn.get('many:idem:k4:result'))!), ok(4), 'the idempotent result is stored');
  assert.deepEqual(await deliverReplies(conn, [], 60_000), [], 'nothing to send: no script');
});

test('the reply listener takes the replies that arrived together in one wake-up, and every one of many', async () => {
  const key = 'drain:reply:a';
  const listener = new ReplyListener(new Redis(redis.url), key);
  const reply = (i: number): Reply => ({
    requestId: `job-${i}`,
    ok: false,
    error: { code: 'timeout', message: String(i) },
  });
  try {
    const five = Array.from({ length: 5 }, (_, i) => listener.wait(`job-${i}`, 5000));
    await conn.lpush(key, ...Array.from({ length: 5 }, (_, i) => JSON.stringify(reply(i))));
    const calls = async () => Number(/cmdstat_blmpop:calls=(\d+)/.exec(await conn.info('commandstats'))?.[1] ?? 0);
    const before = await calls();
    listener.start();
    assert.deepEqual(
      (await Promise.all(five)).map((r) => r.requestId),
      ['job-0', 'job-1', 'job-2', 'job-3', 'job-4'],
    );
    assert.ok((await calls()) - before <= 2, 'one wake-up for five replies (and the next, blocking, call)');
    // More than one wake-up takes: all of them still arrive.
    const many = Array.from({ length: 600 }, (_, i) => listener.wait(`job-${100 + i}`, 5000));
    await conn.lpush(key, ...Array.from({ length: 600 }, (_, i) => JSON.stringify(reply(100 + i))));
    assert.equal((await Promise.all(many)).length, 600);
  } finally {
    await listener.close();
  }
});
