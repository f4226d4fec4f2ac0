import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHalfBits } from '@tessera/contract';
import { compatKey, stackInputs } from './stack.js';
import { makeModel, tensor, values } from './testing/fixtures.js';

const seqModel = makeModel({
  inputs: [{ name: 'ids', datatype: 'INT64', shape: [-1], pad: [{ axis: 0, value: 7 }] }],
  outputs: [{ name: 'out', datatype: 'INT64', shape: [-1] }],
});

test('FP32 parts are concatenated along the batch axis, in part order', () => {
  const model = makeModel();
  const a = tensor('x', 'FP32', [1, 2], [1, 2]);
  const b = tensor('x', 'FP32', [2, 2], [3, 4, 5, 6]);
  const [x] = stackInputs(model, [
    { inputs: [a], offset: 0, count: 1 },
    { inputs: [b], offset: 0, count: 2 },
  ]);
  assert.deepEqual(x?.shape, [3, 2]);
  assert.ok(x?.data instanceof Float32Array);
  assert.deepEqual(values(x), [1, 2, 3, 4, 5, 6]);
});

test('a slice takes only its own rows', () => {
  const model = makeModel();
  const a = tensor('x', 'FP32', [3, 2], [1, 2, 3, 4, 5, 6]);
  const [x] = stackInputs(model, [{ inputs: [a], offset: 1, count: 2 }]);
  assert.deepEqual(x?.shape, [2, 2]);
  assert.deepEqual(values(x), [3, 4, 5, 6]);
});

test('one whole request is passed through without copying', () => {
  const model = makeModel();
  const a = tensor('x', 'FP32', [2, 2], [1, 2, 3, 4]);
  const [x] = stackInputs(model, [{ inputs: [a], offset: 0, count: 2 }]);
  assert.equal(x, a);
});

test('INT64 sequences are padded to the longest with the rule value as bigint', () => {
  const a = tensor('ids', 'INT64', [1, 2], [1n, 2n]);
  const b = tensor('ids', 'INT64', [2, 3], [3n, 4n, 5n, 6n, 7n, 8n]);
  const [x] = stackInputs(seqModel, [
    { inputs: [a], offset: 0, count: 1 },
    { inputs: [b], offset: 0, count: 2 },
  ]);
  assert.deepEqual(x?.shape, [3, 3]);
  assert.ok(x?.data instanceof BigInt64Array);
  assert.deepEqual(Array.from(x.data as BigInt64Array), [1n, 2n, 7n, 3n, 4n, 5n, 6n, 7n, 8n]);
});

test('FP16 padding uses half-precision bits of the pad value', () => {
  const model = makeModel({ inputs: [{ name: 'x', datatype: 'FP16', shape: [-1], pad: [{ axis: 0, value: 1.5 }] }] });
  const h = (v: number) => toHalfBits(v);
  const a = tensor('x', 'FP16', [1, 1], [h(2)]);
  const b = tensor('x', 'FP16', [1, 3], [h(3), h(4), h(5)]);
  const [x] = stackInputs(model, [
    { inputs: [a], offset: 0, count: 1 },
    { inputs: [b], offset: 0, count: 1 },
  ]);
  assert.ok(x?.data instanceof Uint16Array);
  assert.deepEqual(values(x), [h(2), h(1.5), h(1.5), h(3), h(4), h(5)]);
});

test('two padded axes of an image are padded independently, channels untouched', () => {
  const model = makeModel({
    inputs: [
      {
        name: 'img',
        datatype: 'UINT8',
        shape: [1, -1, -1],
        pad: [
          { axis: 1, value: 0 },
          { axis: 2, value: 9 },
        ],
      },
    ],
  });
  const a = tensor('img', 'UINT8', [1, 1, 1, 2], [1, 2]);
  const b = tensor('img', 'UINT8', [1, 1, 2, 1], [3, 4]);
  const [x] = stackInputs(model, [
    { inputs: [a], offset: 0, count: 1 },
    { inputs: [b], offset: 0, count: 1 },
  ]);
  assert.deepEqual(x?.shape, [2, 1, 2, 2]);
  // Rows beyond a's height are axis-1 padding (0); columns beyond b's width are axis-2 padding (9).
  assert.deepEqual(values(x), [1, 2, 0, 0, 3, 9, 4, 9]);
});

test('compatKey ignores padded axes only', () => {
  const a = [tensor('ids', 'INT64', [1, 2], [1n, 2n])];
  const b = [tensor('ids', 'INT64', [1, 5], [1n, 2n, 3n, 4n, 5n])];
  assert.equal(compatKey(seqModel, a), compatKey(seqModel, b));
  const model = makeModel({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }] });
  const c = [tensor('x', 'FP32', [1, 2], [1, 2])];
  const d = [tensor('x', 'FP32', [1, 3], [1, 2, 3])];
  assert.notEqual(compatKey(model, c), compatKey(model, d));
});

test('models without a batch dimension pass the single request through', () => {
  const model = makeModel({ maxBatchSize: 0 });
  const a = tensor('x', 'FP32', [2], [1, 2]);
  assert.deepEqual(stackInputs(model, [{ inputs: [a], offset: 0, count: 1 }]), [a]);
  assert.throws(() =>
    stackInputs(model, [
      { inputs: [a], offset: 0, count: 1 },
      { inputs: [a], offset: 0, count: 1 },
    ]),
  );
});
