import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '@tessera/contract';
import { assembleOutputs, splitOutputs } from './split.js';
import { makeModel, tensor, values } from './testing/fixtures.js';

test('outputs are sliced back per part along the batch axis', () => {
  const model = makeModel();
  const y = tensor('y', 'FP32', [3, 2], [1, 2, 3, 4, 5, 6]);
  const x1 = tensor('x', 'FP32', [1, 2], [0, 0]);
  const x2 = tensor('x', 'FP32', [2, 2], [0, 0, 0, 0]);
  const [a, b] = splitOutputs(
    model,
    [y],
    [
      { inputs: [x1], count: 1 },
      { inputs: [x2], count: 2 },
    ],
  );
  assert.deepEqual(a?.[0]?.shape, [1, 2]);
  assert.deepEqual(values(a?.[0]), [1, 2]);
  assert.deepEqual(b?.[0]?.shape, [2, 2]);
  assert.deepEqual(values(b?.[0]), [3, 4, 5, 6]);
});

test('cropped outputs follow each part own input size times scale, rounded up', () => {
  const model = makeModel({
    inputs: [{ name: 'ids', datatype: 'INT64', shape: [-1], pad: [{ axis: 0, value: 0 }] }],
    outputs: [
      { name: 'tags', datatype: 'FP32', shape: [-1, 2], crop: [{ axis: 0, input: 'ids', inputAxis: 0, scale: 1 }] },
      { name: 'pooled', datatype: 'FP32', shape: [-1], crop: [{ axis: 0, input: 'ids', inputAxis: 0, scale: 0.5 }] },
    ],
  });
  // Batch padded to length 3: part a has length 1, part b length 3.
  const tags = tensor('tags', 'FP32', [2, 3, 2], [1, 2, 90, 91, 92, 93, 3, 4, 5, 6, 7, 8]);
  const pooled = tensor('pooled', 'FP32', [2, 2], [10, 99, 20, 21]);
  const a = { inputs: [tensor('ids', 'INT64', [1, 1], [1n])], count: 1 };
  const b = { inputs: [tensor('ids', 'INT64', [1, 3], [1n, 2n, 3n])], count: 1 };
  const [pa, pb] = splitOutputs(model, [tags, pooled], [a, b]);
  assert.deepEqual(pa?.[0]?.shape, [1, 1, 2]);
  assert.deepEqual(values(pa?.[0]), [1, 2]);
  assert.deepEqual(pa?.[1]?.shape, [1, 1]);
  assert.deepEqual(values(pa?.[1]), [10]);
  assert.deepEqual(pb?.[0]?.shape, [1, 3, 2]);
  assert.deepEqual(values(pb?.[0]), [3, 4, 5, 6, 7, 8]);
  assert.deepEqual(pb?.[1]?.shape, [1, 2]);
  assert.deepEqual(values(pb?.[1]), [20, 21]);
});

test('crop rounding is not fooled by floating point error', () => {
  const model = makeModel({
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1], pad: [{ axis: 0, value: 0 }] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1], crop: [{ axis: 0, input: 'x', inputAxis: 0, scale: 0.1 }] }],
  });
  const y = tensor('y', 'FP32', [1, 5], [1, 2, 3, 4, 5]);
  const x = tensor(
    'x',
    'FP32',
    [1, 10],
    Array.from({ length: 10 }, (_, i) => i),
  );
  const [part] = splitOutputs(model, [y], [{ inputs: [x], count: 1 }]);
  // 10 * 0.1 is 1.0000000000000002 in floating point; the answer is 1 column, not 2.
  assert.deepEqual(part?.[0]?.shape, [1, 1]);
});

test('an output with the wrong batch dimension is an inference failure', () => {
  const model = makeModel();
  const y = tensor('y', 'FP32', [1, 2], [1, 2]);
  const x = tensor('x', 'FP32', [2, 2], [0, 0, 0, 0]);
  assert.throws(
    () => splitOutputs(model, [y], [{ inputs: [x], count: 2 }]),
    (e: unknown) => e instanceof ServiceError && e.code === 'inference_failed',
  );
});

test('assembleOutputs joins slices in order and keeps requested outputs in requested order', () => {
  const model = makeModel();
  const s1 = [tensor('y', 'FP32', [1, 2], [1, 2]), tensor('z', 'INT64', [1], [5n])];
  const s2 = [tensor('y', 'FP32', [2, 2], [3, 4, 5, 6]), tensor('z', 'INT64', [2], [6n, 7n])];
  const out = assembleOutputs(model, [s1, s2], ['z', 'y']);
  assert.deepEqual(
    out.map((t) => t.name),
    ['z', 'y'],
  );
  assert.deepEqual(out[0]?.shape, [3]);
  assert.deepEqual(Array.from(out[0]!.data as BigInt64Array), [5n, 6n, 7n]);
  assert.deepEqual(out[1]?.shape, [3, 2]);
  assert.deepEqual(values(out[1]), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => assembleOutputs(model, [s1], ['nope']), /no output 'nope'/);
});
