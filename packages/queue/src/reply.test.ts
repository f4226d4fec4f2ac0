import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reply } from '@tessera/contract';
import { ReplyListener } from './reply.js';
import { useTestRedis } from './testing/redis.js';

const redis = useTestRedis();

test('the reply listener takes the replies that arrived together in one wake-up, and every one of many', async () => {
  const { conn } = redis;
  const key = 'drain:reply:a';
  const listener = new ReplyListener(redis.connect(), key);
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
