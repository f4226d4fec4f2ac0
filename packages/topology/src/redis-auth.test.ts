import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisKeys } from '@tessera/queue';
import { WORKER_KEY_FAMILIES } from './redis-auth.js';

/** Redis ACL key patterns (`~tessera:infer.*`): only `*` is used, which matches any run of characters. */
const matches = (pattern: string, key: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(key);
const workerMay = (key: string) => WORKER_KEY_FAMILIES.some((f) => matches(`tessera:${f}`, key));

const keys = new RedisKeys('tessera');

test("the worker's ACL allows every key the worker touches", () => {
  const { zset, counter, owners, usage } = keys.admission('lid176');
  const idem = keys.idempotency('k:abc:lid176:1:retry-7');
  const touched = [
    keys.queue('lid176', 'wait'),
    keys.queue('pp-ocr.det', 'job-1'),
    keys.reply('api-1'),
    keys.blob('req-1', 0),
    keys.workers,
    keys.worker('w-1'),
    zset,
    counter,
    owners,
    usage,
    idem.record,
    idem.result,
    idem.replies,
    keys.cacheEntry('k:abc', 'lid176', 'f00d'),
    ...Object.values(keys.cacheBudget),
    keys.stats('lid176', '2'),
    keys.repositoryControl,
    keys.repositoryGeneration,
    keys.repositoryChannel('workers'),
    keys.repositoryAck('workers', 3),
  ];
  for (const key of touched) assert.ok(workerMay(key), `the worker may use ${key}`);
});

test("the worker's ACL allows no API key, rate-limit counter, session or failed-login counter", () => {
  for (const key of [
    keys.apiKey('abc'),
    keys.apiKeys,
    `${keys.rateLimitPrefix}key:abc`,
    keys.session('s'),
    keys.authFailures('10.0.0.1'),
  ])
    assert.ok(!workerMay(key), `the worker may not use ${key}`);
});
