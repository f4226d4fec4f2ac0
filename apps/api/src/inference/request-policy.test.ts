import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from 'express';
import { loadApiConfig } from '@tessera/config';
import type { ModelSpec } from '@tessera/contract';
import type { Principal } from '../auth/key-store.js';
import { ServiceError } from '@tessera/contract';
import { afterDeadline, requestPolicy } from './request-policy.js';
import { TimeoutError } from './with-timeout.js';

const config = loadApiConfig({ REQUEST_TIMEOUT_MS: '30000' });
const model = { name: 'm', version: '1' } as ModelSpec;

function req(body: unknown, headers: Record<string, string> = {}, principal?: Partial<Principal>): Request {
  return {
    body,
    startedAt: process.hrtime.bigint(),
    get: (n: string) => headers[n.toLowerCase()],
    principal,
  } as unknown as Request;
}

const near = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) <= 20, `${actual} ≈ ${expected}`);

test('the model default, then REQUEST_TIMEOUT_MS; the client can only shorten it', () => {
  near(requestPolicy(req({}), model, config).timeoutMs, 30_000);
  near(requestPolicy(req({}), { ...model, timeoutMs: 5000 }, config).timeoutMs, 5000);
  near(requestPolicy(req({ parameters: { timeout: 200_000 } }), model, config).timeoutMs, 200); // microseconds
  near(requestPolicy(req({}, { 'x-request-timeout-ms': '150' }), model, config).timeoutMs, 150);
  near(requestPolicy(req({}, { 'request-timeout': '120' }), model, config).timeoutMs, 120);
  near(
    requestPolicy(req({ parameters: { timeout: 60_000_000 } }), { ...model, timeoutMs: 1000 }, config).timeoutMs,
    1000,
  );
});

test('bad timeouts are 400', () => {
  assert.throws(() => requestPolicy(req({ parameters: { timeout: -1 } }), model, config), /parameters.timeout/);
  assert.throws(
    () => requestPolicy(req({}, { 'x-request-timeout-ms': 'soon' }), model, config),
    /x-request-timeout-ms/,
  );
});

test('priority: 0, absent or past the levels is the default level (as Triton); 1 is highest; not an integer is 400', () => {
  assert.equal(requestPolicy(req({}), model, config).priority, 5);
  assert.equal(requestPolicy(req({ parameters: { priority: 0 } }), model, config).priority, 5);
  assert.equal(requestPolicy(req({ parameters: { priority: 1 } }), model, config).priority, 1);
  assert.equal(requestPolicy(req({ parameters: { priority: 11 } }), model, config).priority, 5);
  assert.throws(
    () => requestPolicy(req({ parameters: { priority: -1 } }), model, config),
    (e: { code?: string }) => e.code === 'bad_request',
  );
  assert.throws(() => requestPolicy(req({ parameters: { priority: 1.5 } }), model, config), /priority/);
});

test("a key's priority range refuses what is outside it and moves the default inside", () => {
  const p = { name: 'k', priority: { min: 7, max: 9 } };
  assert.throws(
    () => requestPolicy(req({ parameters: { priority: 2 } }, {}, p), model, config),
    (e: { code?: string }) => e.code === 'forbidden',
  );
  assert.equal(requestPolicy(req({ parameters: { priority: 8 } }, {}, p), model, config).priority, 8);
  assert.equal(requestPolicy(req({}, {}, p), model, config).priority, 7);
});

test('after its deadline, a server-side failure is the one timeout answer; client errors keep theirs', () => {
  const policy = {
    timeoutMs: 0,
    totalMs: 0.004,
    deadline: performance.timeOrigin + performance.now() - 1,
    priority: 5,
  };
  const cut = new TimeoutError('Redis did not answer the admission in time');
  const redis = afterDeadline(
    new ServiceError('not_ready', `Redis is unreachable: ${cut.message}`, { cause: cut }),
    policy,
  ) as ServiceError;
  assert.equal(redis.status, 504);
  assert.equal(redis.message, 'request timeout expired: no result within 4 µs');
  assert.equal((afterDeadline(new Error('anything else'), policy) as ServiceError).status, 504);
  assert.equal((afterDeadline(new ServiceError('overloaded', 'queue cap'), policy) as ServiceError).status, 429);
  const refused = new ServiceError('not_ready', 'Redis is unreachable: connect ECONNREFUSED', {
    cause: new Error('connect ECONNREFUSED'),
  });
  assert.equal(afterDeadline(refused, policy), refused, 'Redis really away: said so, even after the deadline');
  // A wait cut by its deadline budget may wake just before the deadline (timers count whole ms).
  const almost = { ...policy, deadline: performance.timeOrigin + performance.now() + 0.5 };
  assert.equal(
    (
      afterDeadline(
        new ServiceError('not_ready', `Redis is unreachable: ${cut.message}`, { cause: cut }),
        almost,
      ) as ServiceError
    ).status,
    504,
    'cut at the deadline: the deadline, not Redis',
  );
  assert.equal(afterDeadline(refused, almost), refused, 'a real Redis failure just before the deadline keeps its 503');
  const live = { ...policy, deadline: policy.deadline + 60_000 };
  assert.equal(
    (afterDeadline(new ServiceError('not_ready', 'no worker'), live) as ServiceError).status,
    503,
    'before the deadline, errors are what they are',
  );
});
