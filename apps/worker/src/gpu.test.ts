import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGpuSample } from './gpu.js';

test('parses one nvidia-smi line into a ratio and bytes', () => {
  assert.deepEqual(parseGpuSample('87, 10240, 81559'), {
    utilization: 0.87,
    memoryUsedBytes: 10240 * 2 ** 20,
    memoryTotalBytes: 81559 * 2 ** 20,
  });
});

test('refuses what is not a sample', () => {
  for (const line of ['', '[N/A], 1, 2', '1, 2', 'No devices were found'])
    assert.equal(parseGpuSample(line), undefined, line);
});
