import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadApiConfig, loadWorkerConfig, redact, workerRecoveryBoundMs } from './env.js';

test('REDIS_SENTINELS is a list of host:port; empty means no Sentinel', () => {
  assert.deepEqual(loadApiConfig({}).REDIS_SENTINELS, []);
  assert.deepEqual(loadWorkerConfig({ REDIS_SENTINELS: 'a:26379, [::1]:26380,b.example:1' }).REDIS_SENTINELS, [
    { host: 'a', port: 26379 },
    { host: '::1', port: 26380 },
    { host: 'b.example', port: 1 },
  ]);
  assert.equal(loadApiConfig({}).REDIS_SENTINEL_NAME, 'tessera');
  assert.throws(() => loadApiConfig({ REDIS_SENTINELS: 'a:26379,b' }), /REDIS_SENTINELS: expected host:port/);
  assert.throws(() => loadApiConfig({ REDIS_SENTINELS: 'a:70000' }), /REDIS_SENTINELS/);
});

test('the sentinel password is masked in logs', () => {
  assert.equal(redact({ REDIS_SENTINEL_PASSWORD: 's3cret' }).REDIS_SENTINEL_PASSWORD, '***');
});

test('the worker recovery bound: the lock lapses, then the stalled check needs its second pass', () => {
  assert.equal(workerRecoveryBoundMs({ LOCK_DURATION_MS: 5000, STALLED_INTERVAL_MS: 2000 }), 7000);
  assert.equal(workerRecoveryBoundMs({ LOCK_DURATION_MS: 1000, STALLED_INTERVAL_MS: 3000 }), 6000);
  const c = loadWorkerConfig({});
  assert.equal(workerRecoveryBoundMs(c), 7000, 'the defaults recover well inside the 30 s deadline');
});

test('a worker whose recovery bound is not below the request deadline refuses to start', () => {
  assert.throws(
    () => loadWorkerConfig({ LOCK_DURATION_MS: '30000', STALLED_INTERVAL_MS: '30000' }),
    /LOCK_DURATION_MS: a dead worker's jobs would be recovered only after the request deadline/,
  );
  assert.throws(() => loadWorkerConfig({ REQUEST_TIMEOUT_MS: '5000' }), /REQUEST_TIMEOUT_MS|LOCK_DURATION_MS/);
  assert.equal(
    loadWorkerConfig({ REQUEST_TIMEOUT_MS: '60000', LOCK_DURATION_MS: '30000', STALLED_INTERVAL_MS: '10000' })
      .LOCK_DURATION_MS,
    30000,
  );
});

test('every Redis call on a request path has a bound (1 s by default)', () => {
  assert.equal(loadApiConfig({}).REDIS_COMMAND_TIMEOUT_MS, 1000);
  assert.throws(() => loadApiConfig({ REDIS_COMMAND_TIMEOUT_MS: '0' }), /REDIS_COMMAND_TIMEOUT_MS/);
});
