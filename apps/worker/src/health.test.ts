import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerHealth, type HealthOptions } from './health.js';

function harness(overrides: Partial<HealthOptions> = {}) {
  let now = 1_000_000;
  let loopMaxNs = 0;
  let answers = true;
  const health = new WorkerHealth({
    ping: async () => {
      if (!answers) throw new Error('thread gone');
    },
    models: () => 1,
    registered: async () => true,
    pingTimeoutMs: 60_000,
    loopBlockMs: 5_000,
    now: () => now,
    loopDelay: {
      get max() {
        return loopMaxNs;
      },
      reset: () => {
        loopMaxNs = 0;
      },
      enable: () => true,
      disable: () => true,
    },
    ...overrides,
  });
  return {
    health,
    advance: (ms: number) => {
      now += ms;
    },
    stallLoop: (ms: number) => {
      loopMaxNs = ms * 1e6;
    },
    stopAnswering: () => {
      answers = false;
    },
  };
}

test('live while the inference thread answers pings, not once it has been silent past the bound', async () => {
  const h = harness();
  h.advance(59_000);
  await h.health.pingOnce();
  assert.deepEqual(h.health.live(), { ok: true });
  h.stopAnswering();
  h.advance(30_000);
  await h.health.pingOnce();
  assert.equal(h.health.live().ok, true, 'within the bound');
  h.advance(31_000);
  await h.health.pingOnce();
  const live = h.health.live();
  assert.equal(live.ok, false);
  assert.match(live.reason!, /has not answered a ping for 61000 ms/);
});

test('not live after an event-loop stall past the bound, for one more window', () => {
  const h = harness();
  h.stallLoop(6_000);
  assert.match(h.health.live().reason!, /event loop stalled for 6000 ms/);
  h.health.rollWindow();
  assert.equal(h.health.live().ok, false, 'the previous window still shows the stall');
  h.health.rollWindow();
  assert.equal(h.health.live().ok, true);
});

test('ready needs a loaded model, Redis and the registration', async () => {
  assert.deepEqual(await harness().health.ready(), { ok: true });
  assert.match((await harness({ models: () => 0 }).health.ready()).reason!, /no model is loaded/);
  assert.match((await harness({ registered: async () => false }).health.ready()).reason!, /not registered/);
  assert.match(
    (await harness({ registered: () => Promise.reject(new Error('ECONNREFUSED')) }).health.ready()).reason!,
    /Redis is unreachable: ECONNREFUSED/,
  );
  assert.match(
    (await harness({ registered: () => new Promise(() => {}) }).health.ready(50)).reason!,
    /Redis is unreachable: no answer in 50 ms/,
  );
});
