import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { InferJobResult, ModelSpec } from '@tessera/contract';
import { Counter, createLogger, createRegistry } from '@tessera/telemetry';
import { ResponseCache } from './response-cache.js';

const model = { name: 'm', version: '1' } as ModelSpec;
const result: InferJobResult = { outputs: [{ name: 'y', datatype: 'FP32', shape: [1], b64: 'AACAPw==' }], timing: { queueMs: 1, computeMs: 2, batchSize: 3 }, provider: 'cpu', worker: 'w' };
const policy = { enabled: true, ttlS: 60, maxEntryBytes: 10_000 };

function setup(redis: Partial<Redis>) {
  const registry = createRegistry({});
  const counter = new Counter({ name: 'c', help: 'c', labelNames: ['model', 'result'] as const, registers: [registry] });
  const cache = new ResponseCache({ status: 'ready', ...redis } as Redis, 'p', counter, createLogger({ service: 't', level: 'silent' }));
  const count = async (r: string) => (await counter.get()).values.find((v) => v.labels.result === r)?.value ?? 0;
  return { cache, count };
}

test('a Redis error skips the cache: no result, counted as error, nothing thrown', async () => {
  const { cache, count } = setup({ getBuffer: (() => Promise.reject(new Error('READONLY'))) as never, set: (() => Promise.reject(new Error('READONLY'))) as never });
  assert.equal(await cache.get(model, 'h'), undefined);
  assert.equal(await count('error'), 1);
  assert.equal(await cache.set(model, 'h', result, policy), false);
});

test('a Redis that does not answer is skipped after a short wait', async () => {
  const { cache, count } = setup({ getBuffer: (() => new Promise(() => {})) as never });
  const started = Date.now();
  assert.equal(await cache.get(model, 'h'), undefined);
  assert.ok(Date.now() - started < 1000);
  assert.equal(await count('error'), 1);
});

test('hits and misses are counted; entries over the size bound are not stored', async () => {
  const store = new Map<string, string>();
  const { cache, count } = setup({
    getBuffer: (async (k: string) => (store.has(k) ? Buffer.from(store.get(k)!) : null)) as never,
    set: (async (k: string, v: string) => void store.set(k, v)) as never,
  });
  assert.equal(await cache.get(model, 'h'), undefined);
  assert.equal(await cache.set(model, 'h', result, policy), true);
  assert.deepEqual(await cache.get(model, 'h'), result);
  assert.equal(await count('miss'), 1);
  assert.equal(await count('hit'), 1);
  assert.equal(await cache.set(model, 'big', result, { ...policy, maxEntryBytes: 50 }), false);
  assert.equal(store.has('p:cache:m:big'), false);
});
