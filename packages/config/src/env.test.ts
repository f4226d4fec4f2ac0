import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadApiConfig, loadWorkerConfig, redact, ConfigError } from './env.js';

test('api defaults are complete', () => {
  const c = loadApiConfig({});
  assert.equal(c.PORT, 3000);
  assert.equal(c.BODY_LIMIT, 64 * 1024 * 1024);
  assert.equal(c.REQUEST_TIMEOUT_MS, 30_000);
  assert.deepEqual(c.TRUST_PROXY, ['loopback']);
});

test('TRUST_PROXY takes addresses and CIDRs, and refuses a hop count with a way out', () => {
  assert.deepEqual(loadApiConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8,192.168.1.7' }).TRUST_PROXY, [
    'loopback',
    '10.0.0.0/8',
    'fd00::/8',
    '192.168.1.7',
  ]);
  assert.deepEqual(loadApiConfig({ TRUST_PROXY: 'none' }).TRUST_PROXY, []);
  assert.throws(
    () => loadApiConfig({ TRUST_PROXY: '1' }),
    /TRUST_PROXY: takes the trusted proxies' addresses or CIDRs .*no longer a hop count/,
  );
  assert.throws(
    () => loadApiConfig({ TRUST_PROXY: '10.0.0.0/33' }),
    /TRUST_PROXY: not an address, CIDR .*10\.0\.0\.0\/33/,
  );
  assert.throws(() => loadApiConfig({ TRUST_PROXY: 'true' }), /TRUST_PROXY/);
});

test('sizes and numbers are parsed with units', () => {
  const c = loadApiConfig({ BODY_LIMIT: '512kb', PORT: '8081' });
  assert.equal(c.BODY_LIMIT, 512 * 1024);
  assert.equal(c.PORT, 8081);
});

test('invalid values name the variable', () => {
  assert.throws(
    () => loadApiConfig({ PORT: 'eighty' }),
    (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message),
  );
  assert.throws(() => loadWorkerConfig({ DEVICE: 'tpu' }), /DEVICE/);
  assert.throws(() => loadApiConfig({ BODY_LIMIT: 'lots' }), /BODY_LIMIT/);
});

test('auth, limits and cache have safe defaults; switches take on/off', () => {
  const c = loadApiConfig({});
  assert.equal(c.AUTH, true, 'authentication is on unless turned off');
  assert.equal(c.AUTH_CACHE_MS, 1000);
  assert.equal(c.RATE_LIMIT, 6000);
  assert.equal(c.RATE_LIMIT_WINDOW_MS, 60_000);
  assert.equal(c.RESPONSE_CACHE, true);
  assert.equal(c.ADMIN_READ_ONLY, true);
  assert.equal(loadApiConfig({ AUTH: 'off' }).AUTH, false);
  assert.throws(() => loadApiConfig({ AUTH: 'maybe' }), /AUTH/);
  assert.throws(
    () => loadApiConfig({ AUTH_CACHE_MS: '5000' }),
    /AUTH_CACHE_MS/,
    'a revocation must take effect within a second',
  );
  assert.throws(() => loadApiConfig({ DEFAULT_PRIORITY: '11' }), /DEFAULT_PRIORITY/);
});

test('worker model list is split', () => {
  assert.deepEqual(loadWorkerConfig({ MODELS: 'a, b,,c' }).MODELS, ['a', 'b', 'c']);
  assert.deepEqual(loadWorkerConfig({}).MODELS, []);
});

test('redact masks passwords in URLs', () => {
  assert.equal(redact({ REDIS_URL: 'redis://user:secret@host:1' }).REDIS_URL, 'redis://user:***@host:1');
});
