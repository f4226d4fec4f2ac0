import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildModel } from './build-model.js';
import { initializer } from './initializer.js';

test('onnxruntime runs a built model with tagged attributes and constants', async () => {
  const bytes = buildModel({
    name: 'checks',
    inputs: [
      { name: 'x', datatype: 'FP32', shape: ['N', 3] },
      { name: 'idx', datatype: 'INT64', shape: ['N'] },
    ],
    outputs: [
      { name: 'act', datatype: 'FP32', shape: ['N', 3] },
      { name: 'picked', datatype: 'FP32', shape: ['N', 2] },
      { name: 'rowsum', datatype: 'FP32', shape: ['N'] },
      { name: 'counted', datatype: 'INT64', shape: ['N'] },
    ],
    nodes: [
      { op: 'LeakyRelu', inputs: ['x'], outputs: ['act'], attributes: { alpha: { f: 0.5 } } },
      {
        op: 'Constant',
        inputs: [],
        outputs: ['cols'],
        attributes: { value: { t: initializer('cols_value', 'INT64', [2], [2, 0]) } },
      },
      { op: 'Gather', inputs: ['x', 'cols'], outputs: ['picked'], attributes: { axis: { i: 1 } } },
      { op: 'ReduceSum', inputs: ['act', 'axes'], outputs: ['rowsum'], attributes: { keepdims: { i: 0 } } },
      { op: 'Mul', inputs: ['idx', 'ten'], outputs: ['counted'] },
    ],
    initializers: [initializer('axes', 'INT64', [1], [1]), initializer('ten', 'INT64', [], [10n])],
  });
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  try {
    assert.deepEqual(session.inputNames, ['x', 'idx']);
    const out = await session.run({
      x: new ort.Tensor('float32', Float32Array.from([1, -2, 3, -4, 5, -6]), [2, 3]),
      idx: new ort.Tensor('int64', BigInt64Array.from([3n, -7n]), [2]),
    });
    assert.deepEqual([...(out.act!.data as Float32Array)], [1, -1, 3, -2, 5, -3]);
    assert.deepEqual([...(out.picked!.data as Float32Array)], [3, 1, -6, -4]);
    assert.deepEqual(out.picked!.dims, [2, 2]);
    assert.deepEqual([...(out.rowsum!.data as Float32Array)], [3, 0]);
    assert.deepEqual([...(out.counted!.data as BigInt64Array)], [30n, -70n]);
  } finally {
    await session.release();
  }
});
