import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CapController } from './testing/cap-controller.js';

test('out of memory halves the cap, never below one', () => {
  const cap = new CapController({ max: 64 });
  assert.equal(cap.value, 64);
  assert.equal(cap.onOutOfMemory(64), 32);
  assert.equal(cap.onOutOfMemory(32), 16);
  assert.equal(cap.onOutOfMemory(2), 1);
  assert.equal(cap.onOutOfMemory(1), 1);
});

test('a smaller failing batch halves from its own size', () => {
  const cap = new CapController({ max: 64 });
  assert.equal(cap.onOutOfMemory(10), 5);
});

test('the cap doubles after growAfter consecutive successes, up to max', () => {
  const cap = new CapController({ max: 48, growAfter: 3, initial: 12 });
  cap.onSuccess();
  cap.onSuccess();
  assert.equal(cap.value, 12);
  assert.equal(cap.onSuccess(), 24);
  for (let i = 0; i < 3; i++) cap.onSuccess();
  assert.equal(cap.value, 48);
  for (let i = 0; i < 10; i++) cap.onSuccess();
  assert.equal(cap.value, 48);
});

test('an out-of-memory failure restarts the success streak', () => {
  const cap = new CapController({ max: 64, growAfter: 2 });
  cap.onOutOfMemory(64);
  cap.onSuccess();
  cap.onOutOfMemory(32);
  cap.onSuccess();
  assert.equal(cap.value, 16);
  cap.onSuccess();
  assert.equal(cap.value, 32);
});
