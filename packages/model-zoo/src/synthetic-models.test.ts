import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DEFAULT_MEMORY_HOG_REPEATS } from './models/memory-hog.js';
import { prepareRepository } from './prepare-repository.js';
import { f32, i64, numbers, runModel } from './test-session.js';

let repo: string;
before(async () => {
  repo = await mkdtemp(join(tmpdir(), 'tessera-zoo-'));
  await prepareRepository(repo, { only: 'test', memoryHogRepeats: 8, cost: { dim: 16, layers: 3 } });
});
after(() => rm(repo, { recursive: true, force: true }));

test('affine: y = 2x + 1 and sum = Σy per item', async () => {
  const out = await runModel(repo, 'affine', { x: f32([1, 2, 3, 4, -1, 0, 0.5, 10], [2, 4]) });
  assert.deepEqual(numbers(out.y), [3, 5, 7, 9, -1, 1, 2, 21]);
  assert.deepEqual(out.y!.dims, [2, 4]);
  assert.deepEqual(numbers(out.sum), [24, 23]);
  assert.deepEqual(out.sum!.dims, [2]);
});

test('token-sum: zero padding keeps totals and token counts exact', async () => {
  // Three sequences of lengths 3, 1 and 2, padded with 0 to length 3 as a batch would be.
  const items = [[5, 7, 9], [4], [1, 2]];
  const padded = items.flatMap((ids) => [...ids, ...Array(3 - ids.length).fill(0)]);
  const out = await runModel(repo, 'token-sum', { ids: i64(padded, [3, 3]) });
  assert.deepEqual(numbers(out.total), [21, 4, 3]);
  assert.deepEqual(numbers(out.mask_count), [3, 1, 2]);
  assert.equal(out.total!.type, 'int64');
  // The same answers come back item by item, unpadded.
  for (const [i, ids] of items.entries()) {
    const one = await runModel(repo, 'token-sum', { ids: i64(ids, [1, ids.length]) });
    assert.deepEqual(
      [numbers(one.total)[0], numbers(one.mask_count)[0]],
      [numbers(out.total)[i], numbers(out.mask_count)[i]],
    );
  }
});

test('gather: value = 1.5 index; an out-of-range index fails the whole run', async () => {
  const out = await runModel(repo, 'gather', { index: i64([0, 3, 9, -1], [4, 1]) });
  assert.deepEqual(numbers(out.value), [0, 4.5, 13.5, 13.5]);
  assert.deepEqual(out.value!.dims, [4, 1]);
  await assert.rejects(runModel(repo, 'gather', { index: i64([1, 99, 2], [3, 1]) }), {
    message:
      "Non-zero status code returned while running Gather node. Name:'Gather_0' Status Message: " +
      'indices element out of data bounds, idx=99 must be within the inclusive range [-10,9]',
  });
});

test('memory-hog: y = R Σx with the configured repeats', async () => {
  const out = await runModel(repo, 'memory-hog', { x: f32([1, 2, 3, 4, 0.5, 0.5, 0, 0], [2, 4]) });
  assert.deepEqual(numbers(out.y), [80, 8]);
  assert.deepEqual(out.y!.dims, [2, 1]);
});

test('memory-hog: the default repeats need 64 MiB per item and still compute exactly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-zoo-hog-'));
  try {
    const { models } = await prepareRepository(dir, { only: 'test' });
    assert.ok(models.some((m) => m.name === 'memory-hog'));
    assert.equal(DEFAULT_MEMORY_HOG_REPEATS * 16, 64 * 1024 * 1024);
    const out = await runModel(dir, 'memory-hog', { x: f32([1, 1, 1, 1], [1, 4]) });
    assert.deepEqual(numbers(out.y), [4 * DEFAULT_MEMORY_HOG_REPEATS]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('cost: [N, D] in and out, bounded by tanh, deterministic for a seed', async () => {
  const x = Array.from({ length: 3 * 16 }, (_, i) => Math.sin(i));
  const out = await runModel(repo, 'cost', { x: f32(x, [3, 16]) });
  assert.deepEqual(out.y!.dims, [3, 16]);
  const y = numbers(out.y);
  assert.ok(y.every((v) => Math.abs(v) < 1) && y.some((v) => v !== 0));
  // Rows are independent: the first row alone gives the same answer.
  const first = await runModel(repo, 'cost', { x: f32(x.slice(0, 16), [1, 16]) });
  numbers(first.y).forEach((v, i) => assert.ok(Math.abs(v - y[i]!) < 1e-6));
});

test('the run fails with a shape error when the item width is wrong', async () => {
  await assert.rejects(
    runModel(repo, 'affine', { x: new ort.Tensor('float32', new Float32Array(3), [1, 3]) }),
    /Got invalid dimensions/,
  );
});
