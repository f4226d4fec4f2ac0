import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLimit } from './memory-limit.js';

/** Full batches against a device whose real limit is `fits` items, for `batches` runs. */
function run(
  cap: { value: number; onSuccess(items?: number): unknown; onOutOfMemory(items: number): unknown },
  fits: number,
  batches: number,
) {
  let ooms = 0;
  const sizes: number[] = [];
  for (let i = 0; i < batches; i++) {
    const n = cap.value;
    sizes.push(n);
    if (n > fits) {
      ooms++;
      cap.onOutOfMemory(n);
    } else {
      cap.onSuccess(n);
    }
  }
  return { ooms, sizes };
}

test('after a first out-of-memory failure the cap halves and doubles back as before any failure', () => {
  const mem = new MemoryLimit({ max: 64, growAfter: 3 });
  assert.equal(mem.onOutOfMemory(64), 32);
  assert.equal(mem.onOutOfMemory(32), 16);
  assert.equal(mem.limit, 32);
  assert.equal(mem.strikes, 0);
  for (let i = 0; i < 3; i++) mem.onSuccess(16);
  assert.equal(mem.value, 32, 'one optimistic retry of the failed size');
  for (let i = 0; i < 3; i++) mem.onSuccess(1);
  assert.equal(mem.value, 64, 'small batches prove nothing, but a first failure does not block growth');
});

test('an OOM ceiling is respected: a device that fits 7 settles at 7 instead of failing at 8 every cycle', () => {
  const mem = new MemoryLimit({ max: 64, growAfter: 20 });
  const now = run(mem, 7, 5000);
  // Halving and doubling alone would run 8 into an OOM every 20 batches: 250 times in 5000.
  assert.ok(now.ooms <= 15, `MemoryLimit ran out of memory ${now.ooms} times`);
  const atSeven = now.sizes.slice(1000).filter((n) => n === 7).length / 4000;
  assert.ok(atSeven > 0.95, `cap at the real limit ${Math.round(atSeven * 100)} % of the time`);
  assert.equal(mem.limit, 8);
  assert.equal(mem.strikes, mem.maxStrikes);
});

test('the wait before retrying a size that failed again doubles with each strike, up to growAfter x 2^maxStrikes', () => {
  const mem = new MemoryLimit({ max: 16, growAfter: 2, maxStrikes: 3 });
  mem.onOutOfMemory(16); // limit 16, cap 8
  mem.onSuccess(8);
  mem.onSuccess(8); // optimistic retry: 16
  assert.equal(mem.value, 16);
  mem.onOutOfMemory(16); // strike 1, cap 8
  assert.equal(mem.strikes, 1);
  const waits: number[] = [];
  const cap = (): number => mem.value;
  for (let strike = 1; strike <= 5; strike++) {
    // Climb to limit - 1 (halving the distance), then count successes until the retry.
    let n = 0;
    while (cap() < 15) {
      mem.onSuccess(cap());
      assert.ok(++n < 100);
    }
    let wait = 0;
    while (cap() === 15) {
      mem.onSuccess(15);
      wait++;
    }
    waits.push(wait);
    assert.equal(cap(), 16);
    mem.onOutOfMemory(16);
  }
  assert.deepEqual(waits, [4, 8, 16, 16, 16]);
});

test('approaching the limit halves the distance: 8 -> 12 -> 14 -> 15 below a limit of 16', () => {
  const mem = new MemoryLimit({ max: 64, growAfter: 1 });
  mem.onOutOfMemory(16);
  mem.onSuccess(8); // retry 16
  mem.onOutOfMemory(16); // strike: cap 8
  const seen = [mem.value];
  for (let i = 0; i < 3; i++) seen.push(mem.onSuccess(mem.value));
  assert.deepEqual(seen, [8, 12, 14, 15]);
});

test('a batch at the failed size that succeeds clears the ceiling', () => {
  const mem = new MemoryLimit({ max: 64, growAfter: 1 });
  mem.onOutOfMemory(32);
  mem.onSuccess(16);
  mem.onOutOfMemory(32); // strike
  assert.equal(mem.strikes, 1);
  mem.onSuccess(32); // memory was freed meanwhile
  assert.equal(mem.limit, Infinity);
  assert.equal(mem.strikes, 0);
  while (mem.value < 64) mem.onSuccess(mem.value);
  assert.equal(mem.value, 64);
});

test('out of memory halves the cap, never below one', () => {
  const cap = new MemoryLimit({ max: 64 });
  assert.equal(cap.value, 64);
  assert.equal(cap.onOutOfMemory(64), 32);
  assert.equal(cap.onOutOfMemory(32), 16);
  assert.equal(cap.onOutOfMemory(2), 1);
  assert.equal(cap.onOutOfMemory(1), 1);
});

test('a smaller failing batch halves from its own size', () => {
  const cap = new MemoryLimit({ max: 64 });
  assert.equal(cap.onOutOfMemory(10), 5);
});

test('the cap doubles after growAfter consecutive successes, up to max', () => {
  const cap = new MemoryLimit({ max: 48, growAfter: 3, initial: 12 });
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
  const cap = new MemoryLimit({ max: 64, growAfter: 2 });
  cap.onOutOfMemory(64);
  cap.onSuccess();
  cap.onOutOfMemory(32);
  cap.onSuccess();
  assert.equal(cap.value, 16);
  cap.onSuccess();
  assert.equal(cap.value, 32);
});
