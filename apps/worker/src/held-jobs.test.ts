import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeldJobs } from './held-jobs.js';

test('holds one per instance until a finished job is refilled at once, then twice as many each time, up to the whole window', () => {
  const held = new HeldJobs(2, 128);
  assert.equal(held.current, 2);
  held.taken('a');
  assert.equal(held.released('a'), 2, 'the queue kept up');
  held.taken('b');
  held.released('b');
  held.taken('c');
  assert.equal(held.refilled(), 4, 'c waited while b ran: a backlog');
  for (const expected of [8, 16, 32, 64, 128, 128]) assert.equal(held.refilled(), expected);
});

test('goes back to one per instance once it holds nothing', () => {
  const held = new HeldJobs(1, 64);
  held.taken('a');
  held.taken('b');
  held.refilled();
  assert.equal(held.released('a'), 2, 'b is still held');
  assert.equal(held.released('b'), 1);
  assert.equal(held.released('b'), 1, 'a second release changes nothing');
});

test('WORKER_CONCURRENCY (idle equal to most) fixes the count', () => {
  const held = new HeldJobs(10, 10);
  held.taken('a');
  assert.equal(held.refilled(), 10);
  assert.equal(held.released('a'), 10);
});
