import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignDevices, cudaDevices, parseCudaDevices } from './devices.js';

test('CUDA_DEVICES is a list of GPU indices; anything else is refused', () => {
  assert.deepEqual(parseCudaDevices('0,1, 3'), [0, 1, 3]);
  assert.equal(parseCudaDevices(undefined), undefined);
  assert.equal(parseCudaDevices(' '), undefined);
  assert.throws(() => parseCudaDevices('0,gpu1'), /CUDA_DEVICES must be GPU indices/);
});

test('worker i gets device i, wrapping around; no devices leaves the choice to the worker', () => {
  assert.deepEqual(assignDevices(2, [0, 1]), [0, 1]);
  assert.deepEqual(assignDevices(3, [2, 5]), [2, 5, 2]);
  assert.deepEqual(assignDevices(2, []), [undefined, undefined]);
});

test('CUDA_DEVICES wins over detection; a host without nvidia-smi has no GPUs', () => {
  assert.deepEqual(cudaDevices({ CUDA_DEVICES: '1,0', PATH: '/nonexistent' }), [1, 0]);
  assert.deepEqual(cudaDevices({ PATH: '/nonexistent' }), []);
});
