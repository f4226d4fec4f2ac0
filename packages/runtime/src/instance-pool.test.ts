import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Tensor } from '@tessera/contract';
import { InstancePool, instanceDevices } from './index.js';
import { ModelDir, recordingLogger, reluArgmax } from './testing/models.js';

const dir = new ModelDir();
after(() => dir.remove());

const x: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 4], data: Float32Array.from([-1, 2, 0.5, 3]) };

test('each instance is a session on its own thread; two runs of one model proceed at the same time', async () => {
  const pool = new InstancePool({
    device: 'cpu',
    cudaDeviceId: 0,
    intraOpNumThreads: 1,
    logger: recordingLogger().logger,
  });
  try {
    const model = { ...dir.write(reluArgmax()), instanceGroups: [{ count: 2, kind: 'KIND_CPU' as const }] };
    const loaded = await pool.load(model);
    assert.deepEqual(loaded.providers, ['cpu', 'cpu']);
    const [a, b] = await Promise.all([pool.run(model, [x], 0), pool.run(model, [x], 1)]);
    assert.deepEqual([...a.outputs[1]!.data], [3n]);
    assert.deepEqual([...b.outputs[1]!.data], [3n]);
    // Recreating one instance leaves the other one serving.
    await pool.reset(model, 1);
    assert.deepEqual([...(await pool.run(model, [x], 0)).outputs[1]!.data], [3n]);
    await assert.rejects(pool.run(model, [x], 2), /no instance 2/);
  } finally {
    await pool.close();
    await pool.close();
  }
});

test('instance groups map to devices: KIND_CPU always CPU, KIND_GPU only on the GPUs it names', () => {
  const model = {
    ...dir.write(reluArgmax()),
    instanceGroups: [
      { count: 2, kind: 'KIND_GPU' as const, gpus: [1] },
      { count: 1, kind: 'KIND_CPU' as const },
    ],
  };
  assert.deepEqual(instanceDevices(model, 'auto', 1), ['auto', 'auto', 'cpu']);
  assert.deepEqual(instanceDevices(model, 'auto', 0), ['cpu']);
  const { instanceGroups: _, ...plain } = model;
  assert.deepEqual(instanceDevices(plain, 'cuda', 0), ['cuda']);
});
