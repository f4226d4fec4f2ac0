import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { loadLua, RedisScript } from './script.js';
import { useTestRedis } from './testing/redis.js';

const redis = useTestRedis();
const commands = new URL('./commands/', import.meta.url);

test('every script is named by its key count and opens with a header of its keys, arguments and reply', () => {
  const files = readdirSync(commands).filter((f) => f.endsWith('.lua'));
  assert.ok(files.length >= 6, `the scripts are there (${files.join(', ')})`);
  for (const file of files) {
    assert.match(file, /^[a-z][A-Za-z]*-(\d+|n)\.lua$/, file);
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(readFileSync(new URL(file, commands), 'utf8'))?.[1] ?? '';
    for (const part of ['Input', 'KEYS', 'ARGV', 'Output']) assert.ok(header.includes(part), `${file}: ${part}`);
  }
});

test('includes are inlined once per script', () => {
  const source = loadLua('deliverReplies-n');
  assert.doesNotMatch(source, /@include/);
  assert.equal(source.match(/local function forgetOwner/g)?.length, 1);
  assert.equal(source.match(/local function storeCached/g)?.length, 1);
});

test('a call with the wrong number of keys is refused before Redis; a flushed script cache is refilled', async () => {
  const release = new RedisScript<string[], number>('release-4', {
    encode: (keys) => ({ keys, args: [] }),
    decode: (reply) => Number(reply),
  });
  await assert.rejects(release.run(redis.conn, ['a', 'b']), /takes 4 keys, was given 2/);
  await redis.conn.script('FLUSH');
  assert.equal(await release.run(redis.conn, ['a', 'b', 'c', 'd']), 0);
  assert.deepEqual(await redis.conn.script('EXISTS', release.sha), [1], 'loaded again by EVAL');
});

test('an in-order call sends the text once per connection, then the hash; a flushed cache fails one call', async () => {
  const release = new RedisScript<string[], number>('release-4', {
    encode: (keys) => ({ keys, args: [] }),
    decode: (reply) => Number(reply),
  });
  const keys = ['in-order:a', 'in-order:b', 'in-order:c', 'in-order:d'];
  const calls = async (name: 'eval' | 'evalsha') =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(await redis.conn.info('commandstats'))?.[1] ?? 0);
  await redis.conn.script('FLUSH');
  const before = { eval: await calls('eval'), evalsha: await calls('evalsha') };
  // Issued without waiting, as the admission and the job add are: the first call must load the script.
  const [first, , second] = await Promise.all([
    release.runInOrder(redis.conn, keys),
    redis.conn.set('in-order:after', '1'),
    release.runInOrder(redis.conn, keys),
  ]);
  assert.deepEqual([first, second], [0, 0]);
  assert.equal((await calls('eval')) - before.eval, 1, 'the text went out once');
  assert.equal((await calls('evalsha')) - before.evalsha, 1, 'then its hash');

  await redis.conn.script('FLUSH');
  await assert.rejects(release.runInOrder(redis.conn, keys), /NOSCRIPT/);
  assert.equal(await release.runInOrder(redis.conn, keys), 0, 'sent again with its text');
});
