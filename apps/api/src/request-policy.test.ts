import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from 'express';
import { loadApiConfig } from '@tessera/config';
import type { ModelSpec } from '@tessera/contract';
import type { Principal } from './auth/key-store.js';
import { requestPolicy } from './request-policy.js';

const config = loadApiConfig({ REQUEST_TIMEOUT_MS: '30000' });
const model = { name: 'm', version: '1' } as ModelSpec;

function req(body: unknown, headers: Record<string, string> = {}, principal?: Partial<Principal>): Request {
  return { body, startedAt: process.hrtime.bigint(), get: (n: string) => headers[n.toLowerCase()], principal } as unknown as Request;
}

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) <= 20, `${actual} ≈ ${expected}`);

test('the model default, then REQUEST_TIMEOUT_MS; the client can only shorten it', () => {
  near(requestPolicy(req({}), model, config).timeoutMs, 30_000);
  near(requestPolicy(req({}), { ...model, timeoutMs: 5000 }, config).timeoutMs, 5000);
  near(requestPolicy(req({ parameters: { timeout: 200_000 } }), model, config).timeoutMs, 200); // microseconds
  near(requestPolicy(req({}, { 'x-request-timeout-ms': '150' }), model, config).timeoutMs, 150);
  near(requestPolicy(req({}, { 'request-timeout': '120' }), model, config).timeoutMs, 120);
  near(requestPolicy(req({ parameters: { timeout: 60_000_000 } }), { ...model, timeoutMs: 1000 }, config).timeoutMs, 1000);
});

test('bad timeouts are 400', () => {
  assert.throws(() => requestPolicy(req({ parameters: { timeout: -1 } }), model, config), /parameters.timeout/);
  assert.throws(() => requestPolicy(req({}, { 'x-request-timeout-ms': 'soon' }), model, config), /x-request-timeout-ms/);
});

test('priority: 0 or absent is the default level; 1 is highest; out of range is 400', () => {
  assert.equal(requestPolicy(req({}), model, config).priority, 5);
  assert.equal(requestPolicy(req({ parameters: { priority: 0 } }), model, config).priority, 5);
  assert.equal(requestPolicy(req({ parameters: { priority: 1 } }), model, config).priority, 1);
  assert.throws(() => requestPolicy(req({ parameters: { priority: 11 } }), model, config), (e: { code?: string }) => e.code === 'bad_request');
  assert.throws(() => requestPolicy(req({ parameters: { priority: 1.5 } }), model, config), /priority/);
});

test("a key's priority range refuses what is outside it and moves the default inside", () => {
  const p = { name: 'k', priority: { min: 7, max: 9 } };
  assert.throws(() => requestPolicy(req({ parameters: { priority: 2 } }, {}, p), model, config), (e: { code?: string }) => e.code === 'forbidden');
  assert.equal(requestPolicy(req({ parameters: { priority: 8 } }, {}, p), model, config).priority, 8);
  assert.equal(requestPolicy(req({}, {}, p), model, config).priority, 7);
});
