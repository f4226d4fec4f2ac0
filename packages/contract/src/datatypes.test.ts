import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHalfBits, toHalfBits, viewBytes } from './datatypes.js';
import { fromWire, toWire } from './tensor.js';

test('half precision round trip', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 1e-5, 3.140625]) {
    const back = fromHalfBits(toHalfBits(v));
    assert.ok(Math.abs(back - v) <= Math.abs(v) * 1e-3 + 1e-7, `${v} → ${back}`);
  }
  assert.equal(toHalfBits(1), 0x3c00);
  assert.equal(fromHalfBits(toHalfBits(Infinity)), Infinity);
});

test('wire tensors round trip every width', () => {
  const cases = [
    { name: 'a', datatype: 'FP32' as const, shape: [2], data: new Float32Array([1.5, -2]) },
    { name: 'b', datatype: 'INT64' as const, shape: [1, 2], data: new BigInt64Array([-(2n ** 62n), 7n]) },
    { name: 'c', datatype: 'UINT8' as const, shape: [3], data: new Uint8Array([0, 128, 255]) },
  ];
  for (const t of cases) assert.deepEqual(fromWire(toWire(t)), t);
});

test('a wire tensor whose bytes do not match its shape is refused', () => {
  const w = toWire({ name: 'a', datatype: 'FP32', shape: [2], data: new Float32Array([1, 2]) });
  assert.throws(() => fromWire({ ...w, shape: [3] }), /2 elements but its shape \[3\] needs 3/);
});

test('viewBytes copies bytes that are not aligned, Buffers included (Buffer#slice does not copy)', () => {
  const buf = Buffer.alloc(9);
  buf.writeFloatLE(1.5, 1);
  buf.writeFloatLE(-2, 5);
  const view = viewBytes('FP32', buf.subarray(1));
  assert.deepEqual([...view], [1.5, -2]);
});
