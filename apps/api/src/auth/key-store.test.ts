import { after, before, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedis, type RedisHandle } from '@tessera/topology';
import { KeyStore } from './key-store.js';

/** The key store against a real Redis; the clock of its lookup cache is mocked, never waited on. */
let redis: RedisHandle;
let conn: Redis;

before(async () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'tessera-keys-')), 'redis');
  redis = await startRedis({ port: await freePort(), dir });
  conn = new Redis(redis.url, { maxRetriesPerRequest: null });
});

after(async () => {
  conn?.disconnect();
  await redis?.stop();
});

test('a revoked key keeps working on a replica for at most the lookup cache (1 s), then never', async () => {
  const store = new KeyStore(conn, 'revoke');
  const replica = new KeyStore(conn, 'revoke');
  const { key, record } = await store.create({ name: 'short-lived', scopes: ['infer'] });
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    assert.equal((await replica.verify(key))?.id, record.id, 'valid, and now cached by the replica');
    assert.deepEqual(
      (await store.revoke('short-lived')).map((r) => r.id),
      [record.id],
    );
    assert.equal(await store.verify(key), null, 'a store that had not cached it refuses it at once');
    mock.timers.tick(999);
    assert.equal((await replica.verify(key))?.id, record.id, 'the replica still answers from its cache');
    mock.timers.tick(1);
    assert.equal(await replica.verify(key), null, 'a second after it was cached, the replica asks Redis again');
  } finally {
    mock.timers.reset();
  }
});

test('a wrong secret with a known id, an unknown id and a malformed key are all refused', async () => {
  const store = new KeyStore(conn, 'verify', 0);
  const { key } = await store.create({ name: 'k', scopes: ['infer', 'admin'] });
  assert.deepEqual((await store.verify(key))?.scopes, ['infer', 'admin']);
  const last = key.at(-1) === 'A' ? 'B' : 'A';
  assert.equal(await store.verify(key.slice(0, -1) + last), null);
  assert.equal(await store.verify(`tsk_000000000000_${'C'.repeat(43)}`), null);
  assert.equal(await store.verify('not-a-key'), null);
});
