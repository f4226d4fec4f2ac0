import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asymmetricUint8, quantile, quantizeSymmetric, symmetricInt8 } from './scales.js';

test('symmetric INT8 maps the largest magnitude to ±127 and keeps zero exact', () => {
  const q = quantizeSymmetric(Float32Array.from([0, 1, -2, 0.5]), [4]);
  assert.deepEqual([...q.scales], [Math.fround(2 / 127)]);
  assert.deepEqual([...q.data], [0, 64, -127, 32]);
  assert.equal(symmetricInt8(0).scale, 1);
});

test('per-channel scales follow the channel axis (rows of a [2, 3] weight on axis 0, columns on axis 1)', () => {
  const w = Float32Array.from([1, -1, 0.5, 4, 2, -8]);
  assert.deepEqual([...quantizeSymmetric(w, [2, 3], 0).scales], [1 / 127, 8 / 127].map(Math.fround));
  assert.deepEqual([...quantizeSymmetric(w, [2, 3], 1).scales], [4 / 127, 2 / 127, 8 / 127].map(Math.fround));
  assert.deepEqual([...quantizeSymmetric(w, [2, 3], 0).data], [127, -127, 64, 64, 32, -127]);
});

test('asymmetric UINT8 ranges always contain zero, which lands on an integer', () => {
  const p = asymmetricUint8(0.5, 2.55);
  assert.equal(p.zeroPoint, 0);
  assert.ok(Math.abs(p.scale - 0.01) < 1e-9);
  const q = asymmetricUint8(-1, 1);
  assert.equal(q.zeroPoint, 128);
  assert.deepEqual(asymmetricUint8(0, 0), { scale: 1, zeroPoint: 0 });
});

test('quantile interpolates between sorted values', () => {
  assert.equal(quantile([0, 10], 0.5), 5);
  assert.equal(quantile([1, 2, 3], 1), 3);
  assert.equal(quantile([], 0.5), 0);
});

test('the reduced range keeps weights within ±63', () => {
  const q = quantizeSymmetric(Float32Array.from([0, 0.5, -2]), [3], undefined, 63);
  assert.deepEqual([...q.data], [0, 16, -63]);
});
