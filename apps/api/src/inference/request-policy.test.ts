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

const clock = () => performance.timeOrigin + performance.now();

/**
 * The policy of a request that arrived just now: its whole deadline is exact, and the deadline
 * lies that far after the arrival, which happened between `before` and `after`: the order of the
 * clock's readings is checked, not a duration. The arrival is read on process.hrtime and carried
 * over to the performance clock, which may put it a few microseconds off: 10 µs covers that.
 */
function granted(body: unknown, headers: Record<string, string>, spec: ModelSpec): number {
  const before = clock();
  const policy = requestPolicy(req(body, headers), spec, config);
  const after = clock();
  const arrival = policy.deadline - policy.totalMs;
  assert.ok(before <= arrival + 0.01 && arrival <= after + 0.01, `arrival ${arrival} in [${before}, ${after}]`);
  assert.ok(policy.timeoutMs <= policy.totalMs && policy.timeoutMs > 0, `${policy.timeoutMs} ms left`);
  return policy.totalMs;
}

test('the model default, then REQUEST_TIMEOUT_MS; the client can only shorten it', () => {
  assert.equal(granted({}, {}, model), 30_000);
  assert.equal(granted({}, {}, { ...model, timeoutMs: 5000 }), 5000);
  assert.equal(granted({ parameters: { timeout: 200_000 } }, {}, model), 200); // microseconds
  assert.equal(granted({}, { 'x-request-timeout-ms': '150' }, model), 150);
  assert.equal(granted({}, { 'request-timeout': '120' }, model), 120);
  assert.equal(granted({ parameters: { timeout: 60_000_000 } }, {}, { ...model, timeoutMs: 1000 }), 1000);
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
