import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncrementResponse, Options } from 'express-rate-limit';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { freePort, startRedis, waitFor, type RedisHandle } from '@tessera/topology';
import { RedisRateLimitStore } from './rate-limit-store.js';

/** The rate limiter's counters, against a real Redis that is stopped and started again. */
let redis: RedisHandle;
let port: number;
let dir: string;
/** For looking at what the store wrote. */
let inspect: Redis;
const connections: Redis[] = [];

before(async () => {
  port = await freePort();
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'tessera-rate-limit-')), 'redis');
  redis = await startRedis({ port, dir });
  inspect = new Redis(redis.url, { maxRetriesPerRequest: null });
});

after(async () => {
  for (const conn of connections) conn.disconnect();
  inspect?.disconnect();
  await redis?.stop();
});

/** A store on its own connection (configured as the API's), counting the scripts it sends. */
function setup(prefix: string, windowMs = 60_000, timeoutMs = 1000) {
  const conn = new Redis(redis.url, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  conn.on('error', () => {});
  connections.push(conn);
  const scripts = { sent: 0 };
  const evalsha = conn.evalsha.bind(conn) as (...args: unknown[]) => Promise<unknown>;
  (conn as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = (...args) => {
    scripts.sent++;
    return evalsha(...args);
  };
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  const store = new RedisRateLimitStore({ redis: conn, prefix: `${prefix}:ratelimit:`, logger, timeoutMs });
  store.init({ windowMs } as Options);
  return { conn, store, scripts, warnings };
}

const hits = (responses: IncrementResponse[]): number[] => responses.map((r) => r.totalHits);

test('sequential increments count 1, 2, 3 within one window', async () => {
  const { store } = setup('seq');
  const start = Date.now();
  const first = await store.increment('a');
  // The window's end as Redis holds it (absolute, in ms): later hits must not move it.
  const windowEnd = Number(await inspect.call('PEXPIRETIME', 'seq:ratelimit:a'));
  const answers = [first, await store.increment('a'), await store.increment('a')];
  assert.deepEqual(hits(answers), [1, 2, 3]);
  assert.equal(Number(await inspect.call('PEXPIRETIME', 'seq:ratelimit:a')), windowEnd, 'one window for all three');
  // Each answer's resetTime is that end as seen from here: the window began after `start` and
  // before the answer (PTTL is whole milliseconds, hence the 1).
  for (const { resetTime } of answers) {
    const ms = resetTime!.getTime() - start;
    assert.ok(ms >= 60_000 - 1 && ms <= 60_000 + (Date.now() - start), `resetTime ${ms} ms ahead`);
  }
  assert.equal(await inspect.get('seq:ratelimit:a'), '3');
  assert.deepEqual(hits([await store.increment('b')]), [1], 'each key counts apart');
});

test('an increment that finds nothing in flight is sent at once, not after a delay', async () => {
  const { store, scripts } = setup('idle');
  const answer = store.increment('a');
  assert.equal(scripts.sent, 1, 'the script went out within the call');
  assert.equal((await answer).totalHits, 1);
});

test('concurrent increments share scripts, and each gets its own exact count', async () => {
  const { store, scripts } = setup('burst');
  const keys = ['a', 'b', 'c', 'd'];
  const requests = Array.from({ length: 200 }, (_, i) => keys[i % keys.length]!);
  // Three rounds: whatever arrives while a script is in flight goes in the next one.
  const answers: Promise<IncrementResponse>[] = [];
  for (const [i, key] of requests.entries()) {
    answers.push(store.increment(key));
    if (i % 70 === 69) await sleep(0);
  }
  const counts = hits(await Promise.all(answers));
  for (const key of keys) {
    const mine = counts.filter((_, i) => requests[i] === key);
    assert.deepEqual(
      [...mine].sort((x, y) => x - y),
      Array.from({ length: 50 }, (_, i) => i + 1),
      `key ${key}: each of 1..50 exactly once`,
    );
    assert.deepEqual(
      mine,
      [...mine].sort((x, y) => x - y),
      `key ${key}: counted in arrival order`,
    );
    assert.equal(await inspect.get(`burst:ratelimit:${key}`), '50');
  }
  assert.ok(scripts.sent >= 2 && scripts.sent < 10, `${scripts.sent} scripts for ${requests.length} increments`);
});

test('two stores (two replicas) share the counters exactly', async () => {
  const one = setup('shared');
  const two = setup('shared');
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, i) => (i % 2 ? one.store : two.store).increment('k')),
  );
  assert.deepEqual(
    hits(answers).sort((x, y) => x - y),
    Array.from({ length: 60 }, (_, i) => i + 1),
  );
  assert.equal(await inspect.get('shared:ratelimit:k'), '60');
});

test('the counter expires with its window, and the next hit starts a new one', async () => {
  const { store } = setup('expiry', 300);
  assert.equal((await store.increment('a')).totalHits, 1);
  assert.equal((await store.increment('a')).totalHits, 2);
  const ttl = await inspect.pttl('expiry:ratelimit:a');
  assert.ok(ttl > 0 && ttl <= 300, `PTTL ${ttl}`);
  await waitFor('the counter to expire', async () => (await inspect.exists('expiry:ratelimit:a')) === 0, {
    intervalMs: 50,
  });
  const fresh = await store.increment('a');
  assert.equal(fresh.totalHits, 1);
  assert.ok(fresh.resetTime!.getTime() - Date.now() <= 300);
});

test('a counter left without an expiry gets one on the next hit', async () => {
  const { store } = setup('noexpiry', 5000);
  await inspect.set('noexpiry:ratelimit:a', '7');
  assert.equal((await store.increment('a')).totalHits, 8);
  const ttl = await inspect.pttl('noexpiry:ratelimit:a');
  assert.ok(ttl > 0 && ttl <= 5000, `PTTL ${ttl}`);
});

test('decrement, resetKey and get', async () => {
  const { store } = setup('ops');
  for (let i = 0; i < 3; i++) await store.increment('a');
  await store.decrement('a');
  const got = await store.get('a');
  assert.equal(got?.totalHits, 2);
  assert.ok(got!.resetTime!.getTime() > Date.now());
  assert.equal((await store.increment('a')).totalHits, 3);
  await store.resetKey('a');
  assert.equal(await store.get('a'), undefined);
  assert.equal((await store.increment('a')).totalHits, 1);
});

test('a flushed script cache is loaded again without failing a request', async () => {
  const { store, warnings } = setup('noscript');
  assert.equal((await store.increment('a')).totalHits, 1);
  await inspect.script('FLUSH');
  assert.deepEqual(hits(await Promise.all([store.increment('a'), store.increment('a')])), [2, 3]);
  assert.deepEqual(warnings, []);
});

test('a batch Redis does not answer in time passes, and the next batch counts again', async () => {
  const { store, warnings } = setup('slow', 60_000, 200);
  assert.equal((await store.increment('a')).totalHits, 1);
  await inspect.client('PAUSE', 800, 'ALL');
  // Answered by Redis only once the pause is over: the store must answer before it.
  const unpaused = inspect.ping().then(() => 'Redis answered');
  const stalled = Promise.all([store.increment('a'), store.increment('a'), store.increment('b')]);
  assert.equal(await Promise.race([stalled.then(() => 'the store passed them'), unpaused]), 'the store passed them');
  assert.deepEqual(hits(await stalled), [1, 1, 1], 'every request of the batch passes');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /rate limiter cannot reach Redis/);
  await unpaused;
  // The stalled script ran when the pause ended: its hits counted, as Redis saw them.
  await waitFor('the stalled script to run', async () => (await inspect.get('slow:ratelimit:a')) === '3', {
    intervalMs: 20,
  });
  assert.equal((await store.increment('a')).totalHits, 4);
});

test('with Redis stopped requests pass at once; counting resumes when it is back', async () => {
  // A Redis timeout far beyond the test's: requests that waited for it would fail the test.
  const { conn, store, warnings } = setup('outage', 60_000, 600_000);
  assert.equal((await store.increment('a')).totalHits, 1);
  await redis.stop();
  await waitFor('the connection to notice', async () => conn.status !== 'ready', { timeoutMs: 5000, intervalMs: 10 });
  for (let i = 0; i < 5; i++) {
    const answers = await Promise.all(Array.from({ length: 20 }, () => store.increment('a')));
    assert.deepEqual(new Set(hits(answers)), new Set([1]), "passed, as the window's first hit");
  }
  assert.equal(warnings.length, 1, 'one warning, not one per request');

  redis = await startRedis({ port, dir });
  // A fresh server: empty, and without the script (NOSCRIPT, loaded again).
  await waitFor('the store to count again', async () => (await store.increment('a')).totalHits > 1, {
    timeoutMs: 15_000,
    intervalMs: 50,
  });
  assert.ok(Number(await inspect.get('outage:ratelimit:a')) >= 2);
});
