import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '@tessera/contract';
import { MemoryLimit } from './memory-limit.js';
import { runWithRecovery, type RecoveryOptions } from './recovery.js';
import { classify, isOom, OomError } from './testing/fixtures.js';

interface Part {
  id: string;
  offset: number;
  items: number;
}

function setup(run: (parts: readonly Part[]) => void, cap = new MemoryLimit({ max: 64 })) {
  const runs: number[] = [];
  let resets = 0;
  const opts: RecoveryOptions<Part, string> = {
    run: async (parts) => {
      runs.push(parts.reduce((n, p) => n + p.items, 0));
      run(parts);
      return parts.map((p) => `${p.id}@${p.offset}+${p.items}`);
    },
    reset: async () => {
      resets++;
    },
    isOutOfMemory: isOom,
    classifyError: classify,
    cap,
    items: (p) => p.items,
    split: (p, n) => [
      { ...p, items: n },
      { id: p.id, offset: p.offset + n, items: p.items - n },
    ],
    label: "model 'm' version 1",
  };
  return { opts, runs, cap, resets: () => resets };
}

const parts = (n: number, items = 1): Part[] =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, offset: 0, items }));

test('without failures a batch is exactly one run', async () => {
  const { opts, runs } = setup(() => {});
  const out = await runWithRecovery(parts(5), opts);
  assert.deepEqual(runs, [5]);
  assert.ok(out.every((o) => o.ok));
});

test('OOM halves 64 -> 32 -> 16, resets each time, and loses no part', async () => {
  const { opts, runs, cap, resets } = setup((ps) => {
    if (ps.length > 16) throw new OomError();
  });
  const out = await runWithRecovery(parts(64), opts);
  assert.deepEqual(runs, [64, 32, 16, 16, 16, 16]);
  assert.equal(resets(), 2);
  assert.equal(cap.value, 16);
  assert.equal(out.length, 64);
  assert.ok(out.every((o) => o.ok));
  assert.deepEqual(new Set(out.map((o) => o.part.id)).size, 64);
});

test('OOM cuts a part larger than the new cap into slices', async () => {
  const { opts, runs } = setup(
    (ps) => {
      if (ps.reduce((n, p) => n + p.items, 0) > 4) throw new OomError();
    },
    new MemoryLimit({ max: 8 }),
  );
  const out = await runWithRecovery([{ id: 'big', offset: 0, items: 8 }], opts);
  assert.deepEqual(runs, [8, 4, 4]);
  assert.deepEqual(
    out.map((o) => (o.ok ? o.result : 'fail')),
    ['big@0+4', 'big@4+4'],
  );
});

test('a single item that runs out of memory fails clearly, once', async () => {
  const { opts, runs, resets } = setup(() => {
    throw new OomError();
  });
  const out = await runWithRecovery(parts(1), opts);
  assert.deepEqual(runs, [1]);
  assert.equal(resets(), 1);
  const [only] = out;
  assert.ok(only && !only.ok);
  assert.equal(only.error.code, 'out_of_memory');
  assert.match(only.error.message, /single item does not fit in the device memory/);
});

test('a batch that always OOMs ends with every part failed, without looping', async () => {
  const { opts, runs } = setup(() => {
    throw new OomError();
  });
  const out = await runWithRecovery(parts(4), opts);
  assert.deepEqual(runs, [4, 2, 1, 1, 1, 1]);
  assert.equal(out.filter((o) => !o.ok).length, 4);
});

test('a non-OOM error is bisected down to the offending part; batch-mates succeed', async () => {
  const { opts, runs, cap } = setup((ps) => {
    if (ps.some((p) => p.id === 'p5')) throw new Error('bad token');
  });
  const out = await runWithRecovery(parts(8), opts);
  const failed = out.filter((o) => !o.ok);
  assert.deepEqual(
    failed.map((o) => o.part.id),
    ['p5'],
  );
  const [bad] = failed;
  assert.ok(bad && !bad.ok);
  assert.equal(bad.error.code, 'model_rejected_input');
  assert.equal(out.filter((o) => o.ok).length, 7);
  assert.deepEqual(runs, [8, 4, 4, 2, 1, 1, 2]);
  assert.equal(cap.value, 64);
});

test('two bad parts both fail and only they fail', async () => {
  const { opts } = setup((ps) => {
    if (ps.some((p) => p.id === 'p0' || p.id === 'p6')) throw new Error('bad');
  });
  const out = await runWithRecovery(parts(7), opts);
  assert.deepEqual(
    out
      .filter((o) => !o.ok)
      .map((o) => o.part.id)
      .sort(),
    ['p0', 'p6'],
  );
  assert.equal(out.length, 7);
});

test('ServiceErrors thrown by the run pass through unchanged', async () => {
  const { opts } = setup(() => {
    throw new ServiceError('inference_failed', 'shape');
  });
  const [o] = await runWithRecovery(parts(1), opts);
  assert.ok(o && !o.ok);
  assert.equal(o.error.code, 'inference_failed');
});

test('a failing reset fails the batch instead of retrying', async () => {
  const { opts, runs } = setup(() => {
    throw new OomError();
  });
  opts.reset = async () => {
    throw new Error('cannot create session');
  };
  const out = await runWithRecovery(parts(4), opts);
  assert.deepEqual(runs, [4]);
  assert.ok(out.every((o) => !o.ok && o.error.message === 'cannot create session'));
});

test('abandoned parts are not run again', async () => {
  const failed = new Set<string>();
  const { opts, runs } = setup((ps) => {
    if (ps.some((p) => p.id === 'p0')) throw new Error('bad');
  });
  opts.onSettled = (o) => {
    if (!o.ok) failed.add(o.part.id);
  };
  opts.abandoned = (p) => failed.has(p.id);
  const big: Part[] = [
    { id: 'p0', offset: 0, items: 1 },
    { id: 'p1', offset: 0, items: 1 },
  ];
  await runWithRecovery(big, opts);
  assert.deepEqual(runs, [2, 1, 1]);
});
