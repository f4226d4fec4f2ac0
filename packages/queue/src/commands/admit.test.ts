import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admission } from '../admission.js';
import { RedisKeys } from '../keys.js';
import { inAMinute, useTestRedis } from '../testing/redis.js';

/** admit-n.lua, through Admission: cap, expiry, rate limits, cache lookups, shares, the planned job. */
const redis = useTestRedis();

test('admission counts items up to the cap', async () => {
  const a = new Admission(redis.conn, 'cap1');
  assert.deepEqual(await a.admit('m', 'j1', 3, 8, inAMinute()), { admitted: true, inFlight: 3 });
  assert.deepEqual(await a.admit('m', 'j2', 5, 8, inAMinute()), { admitted: true, inFlight: 8 });
  assert.deepEqual(await a.admit('m', 'j3', 1, 8, inAMinute()), { admitted: false, inFlight: 8 });
  assert.equal(await a.inFlight('m'), 8);
});

test('entries of a crashed replica expire with their deadline instead of leaking', async () => {
  const a = new Admission(redis.conn, 'cap2');
  // Admitted with a deadline long past (its grace included): as if the replica died holding it.
  assert.equal((await a.admit('m', 'lost', 8, 8, Date.now() - 60_000)).admitted, true);
  const next = await a.admit('m', 'fresh', 2, 8, inAMinute());
  assert.deepEqual(next, { admitted: true, inFlight: 2 });
});

test('admission takes rate-limit counts in order; a request over its limit is neither looked up nor admitted', async () => {
  const { conn } = redis;
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

const shared = (requestId: string, owner: string, items = 1, deadline = inAMinute()) => ({
  requestId,
  items,
  deadline,
  share: { owner, maxItems: 4 },
});

test('one key holds at most its share of the cap; other keys still get in; expiry gives it back', async () => {
  const a = new Admission(redis.conn, 'share1');
  const greedy = await a.admitMany(
    'm',
    [1, 2, 3, 4, 5, 6].map((i) => shared(`a${i}`, 'key:a')),
    8,
  );
  assert.deepEqual(greedy.admitted, [true, true, true, true, false, false]);
  assert.deepEqual(greedy.overShare, [false, false, false, false, true, true], 'refused for its share, not the cap');
  const other = await a.admitMany(
    'm',
    [1, 2, 3, 4].map((i) => shared(`b${i}`, 'key:b')),
    8,
  );
  assert.deepEqual(other.admitted, [true, true, true, true], 'the greedy key left room for another');
  assert.equal(await a.heldBy('m', 'key:a'), 4);
  // An entry whose replica died is dropped at its deadline, from its key's share too.
  const c = new Admission(redis.conn, 'share2');
  await c.admitMany('m', [shared('lost', 'key:c', 4, Date.now() - 60_000)], 8);
  assert.deepEqual((await c.admitMany('m', [shared('next', 'key:c', 4)], 8)).admitted, [true]);
  assert.equal(await c.heldBy('m', 'key:c'), 4);
});

test('a planned job is blocked by a placeholder only when a request of it is refused', async () => {
  const { conn } = redis;
  const a = new Admission(conn, 'plan1');
  const job = new RedisKeys('plan1').queue('m', 'job-1');
  const planned = { key: job, placeholderTtlMs: 10_000 };
  const fits = await a.admitMany('m', [{ requestId: 'r1', items: 2, deadline: inAMinute() }], 3, planned);
  assert.equal(fits.jobBlocked, false);
  assert.equal(await conn.exists(job), 0, 'all admitted: the job key stays free for the add');
  const refused = await a.admitMany('m', [{ requestId: 'r2', items: 2, deadline: inAMinute() }], 3, planned);
  assert.deepEqual([refused.admitted[0], refused.jobBlocked], [false, true]);
  const ttl = await conn.pttl(job);
  assert.ok(ttl > 0 && ttl <= 10_000, `the placeholder expires by itself (${ttl} ms)`);
});

test('a planned admission (the in-order call) answers a cached result as text, as the plain one does', async () => {
  const { conn } = redis;
  const a = new Admission(conn, 'plan2');
  await conn.set('plan2:cache:hit', '{"cached":true}');
  const planned = { key: new RedisKeys('plan2').queue('m', 'job-1'), placeholderTtlMs: 10_000 };
  const request = () => ({ requestId: 'r1', items: 1, deadline: inAMinute(), lookup: 'plan2:cache:hit' });
  // Twice: the first call on a connection sends the script's text, the next its hash.
  for (const attempt of [1, 2]) {
    const out = await a.admitMany('m', [request()], 3, planned);
    assert.deepEqual(out.cached, ['{"cached":true}'], `call ${attempt}`);
    await conn.del(planned.key);
  }
});
