import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heartbeat, WorkerRegistry, type WorkerInfo } from './heartbeat.js';
import { useTestRedis } from './testing/redis.js';

/** The API's view of the live workers, against a real Redis and real heartbeats. */
const redis = useTestRedis();

const worker = (prefix: string, models: string[]) => {
  const info: Omit<WorkerInfo, 'at'> = { id: 'w1', models, providers: {}, caps: {}, startedAt: Date.now() };
  return {
    info,
    beat: new Heartbeat(
      redis.conn,
      prefix,
      1000,
      () => info,
      () => {},
    ),
  };
};

test('a version a worker has just started serving is not refused on a cached answer', async () => {
  const w = worker('reg1', ['m@1']);
  await w.beat.beat();
  // A cache far longer than the test: only a read of Redis can see the new version.
  const registry = new WorkerRegistry(redis.conn, 'reg1', 1000, 60_000);
  assert.deepEqual(
    (await registry.serving('m', '1')).map((x) => x.id),
    ['w1'],
  );
  w.info.models = ['m@1', 'm@2'];
  await w.beat.beat();
  assert.deepEqual(
    (await registry.serving('m', '2')).map((x) => x.id),
    ['w1'],
  );
  assert.deepEqual(await registry.serving('m', '3'), []);
});

test('answers come from the cache until it is invalidated', async () => {
  const w = worker('reg2', ['m@1']);
  await w.beat.beat();
  const registry = new WorkerRegistry(redis.conn, 'reg2', 1000, 60_000);
  assert.deepEqual(
    (await registry.live()).map((x) => x.models),
    [['m@1']],
  );
  w.info.models = ['m@2'];
  await w.beat.beat();
  assert.deepEqual(
    (await registry.live()).map((x) => x.models),
    [['m@1']],
    'cached',
  );
  registry.invalidate();
  assert.deepEqual(
    (await registry.live()).map((x) => x.models),
    [['m@2']],
  );
});

test('a read that started before an invalidation does not put its older answer back', async () => {
  const w = worker('reg3', ['m@1']);
  await w.beat.beat();
  const registry = new WorkerRegistry(redis.conn, 'reg3', 1000, 60_000);
  const early = registry.live();
  registry.invalidate();
  w.info.models = ['m@2'];
  await w.beat.beat();
  await early;
  assert.deepEqual(
    (await registry.live()).map((x) => x.models),
    [['m@2']],
  );
});
