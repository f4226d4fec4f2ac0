import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelSpec } from '@tessera/contract';
import { heldJobs, instancePlan, threadBudget } from './instances.js';

const spec = (name: string, maxBatchSize: number) => ({ name, version: '1', maxBatchSize }) as ModelSpec;

test('the thread budget is INFERENCE_THREADS, one per core when 0, and never below one run', () => {
  assert.equal(threadBudget({ INFERENCE_THREADS: 3, INTRA_OP_THREADS: 1 }, 16), 3);
  assert.equal(threadBudget({ INFERENCE_THREADS: 0, INTRA_OP_THREADS: 1 }, 2), 2);
  assert.throws(
    () => threadBudget({ INFERENCE_THREADS: 2, INTRA_OP_THREADS: 4 }, 16),
    /INFERENCE_THREADS \(2\) must be at least INTRA_OP_THREADS \(4\)/,
  );
});

test('CPU instances take their intra-op threads from the budget; GPU instances take none', () => {
  const providers: Record<string, ('cpu' | 'cuda')[]> = { cpu: ['cpu', 'cpu'], gpu: ['cuda'], mixed: ['cuda', 'cpu'] };
  const plan = instancePlan({ providers: (m) => providers[m.name] ?? [] }, 2);
  assert.deepEqual(plan(spec('cpu', 8)), { count: 2, threads: 2 });
  assert.deepEqual(plan(spec('gpu', 8)), { count: 1, threads: 0 });
  assert.deepEqual(plan(spec('mixed', 8)), { count: 2, threads: 2 }, 'a CPU fallback counts as CPU');
});

test('held jobs per model: twice the largest batch per instance with a backlog, one per instance idle, unless WORKER_CONCURRENCY says', () => {
  assert.deepEqual(
    heldJobs([spec('a', 32)], () => 1, 0),
    { idle: 1, most: 64 },
  );
  assert.deepEqual(
    heldJobs([spec('a', 32), spec('a', 8)], () => 2, 0),
    { idle: 2, most: 128 },
  );
  assert.deepEqual(
    heldJobs([spec('a', 32)], () => 2, 10),
    { idle: 10, most: 10 },
  );
});
