import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec } from '@tessera/contract';
import { Counter, createRegistry } from '@tessera/telemetry';
import { cacheTenant, ResponseCache } from './response-cache.js';

const model = { name: 'm', version: '1' } as ModelSpec;

test('cache entries are keyed per model and request hash and carry the policy the worker applies', async () => {
  const registry = createRegistry({});
  const counter = new Counter({
    name: 'c',
    help: 'c',
    labelNames: ['model', 'result'] as const,
    registers: [registry],
  });
  const cache = new ResponseCache('p', counter, 1 << 20);
  assert.equal(cache.key(model, 'h', 'k:a'), 'p:cache:k:a:m:h');
  assert.deepEqual(cache.entry(model, 'h', { enabled: true, ttlS: 60, maxEntryBytes: 10_000 }, 'k:a'), {
    key: 'p:cache:k:a:m:h',
    ttlMs: 60_000,
    maxBytes: 10_000,
    budgetBytes: 1 << 20,
  });
  cache.count(model, 'hit');
  cache.count(model, 'miss');
  cache.count(model, 'miss');
  const values = (await counter.get()).values;
  assert.equal(values.find((v) => v.labels.result === 'hit')?.value, 1);
  assert.equal(values.find((v) => v.labels.result === 'miss')?.value, 2);
});

test('each key has its own cache entries unless it shares a group', () => {
  assert.equal(cacheTenant({ id: 'a1' }), 'k:a1');
  assert.equal(cacheTenant({ id: 'b2' }), 'k:b2');
  assert.equal(cacheTenant({ id: 'a1', cacheGroup: 'acme' }), 'g:acme');
  assert.equal(cacheTenant({ id: 'b2', cacheGroup: 'acme' }), 'g:acme');
  assert.equal(cacheTenant(undefined), 'k:anonymous');
});
