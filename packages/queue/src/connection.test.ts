import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisOptions } from './connection.js';

const endpoint = (url: string, sentinels: { host: string; port: number }[] = [], sentinelPassword = '') => ({
  REDIS_URL: url,
  REDIS_SENTINELS: sentinels,
  REDIS_SENTINEL_NAME: 'tessera',
  REDIS_SENTINEL_PASSWORD: sentinelPassword,
});

test('a plain URL gives host, port, credentials and db, with the extra options on top', () => {
  assert.deepEqual(redisOptions(endpoint('redis://user:p%40ss@10.0.0.1:6390/2'), { commandTimeout: 1000 }), {
    host: '10.0.0.1',
    port: 6390,
    username: 'user',
    password: 'p@ss',
    db: 2,
    commandTimeout: 1000,
  });
  assert.deepEqual(redisOptions(endpoint('redis://localhost')), { host: 'localhost', port: 6379 });
  assert.deepEqual(redisOptions(endpoint('rediss://h:1')), { host: 'h', port: 1, tls: {} });
});

test('with sentinels, the URL gives only credentials and db; the sentinels name the primary', () => {
  const sentinels = [
    { host: 'a', port: 26379 },
    { host: 'b', port: 26379 },
  ];
  assert.deepEqual(
    redisOptions(endpoint('redis://:pw@ignored:1/1', sentinels, 'spw'), { maxRetriesPerRequest: null }),
    {
      sentinels,
      name: 'tessera',
      sentinelPassword: 'spw',
      password: 'pw',
      db: 1,
      maxRetriesPerRequest: null,
    },
  );
});
