import { buildModel, initializer } from '@tessera/onnx';
import type { ZooModel } from '../zoo-model.js';

/**
 * y = 2x + 1 and sum = Σ y per item. Every item's answer is a simple function of its own
 * input, so a reply routed to the wrong request (or mixed up inside a batch) is obvious.
 */
export function affine(): ZooModel {
  return {
    name: 'affine',
    set: 'test',
    source: { generator: 'affine', revision: 1 },
    config: {
      name: 'affine',
      max_batch_size: 64,
      max_queue_delay_ms: 2,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }],
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [4] },
        { name: 'sum', datatype: 'FP32', shape: [] },
      ],
      labels: { task: 'test: y = 2x + 1, sum = sum(y) per item' },
    },
    files: () => ({
      '1/model.onnx': {
        bytes: buildModel({
          name: 'affine',
          inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 4] }],
          outputs: [
            { name: 'y', datatype: 'FP32', shape: ['batch', 4] },
            { name: 'sum', datatype: 'FP32', shape: ['batch'] },
          ],
          nodes: [
            { op: 'Mul', inputs: ['x', 'two'], outputs: ['twice'] },
            { op: 'Add', inputs: ['twice', 'one'], outputs: ['y'] },
            { op: 'ReduceSum', inputs: ['y', 'axis1'], outputs: ['sum'], attributes: { keepdims: { i: 0 } } },
          ],
          initializers: [
            initializer('two', 'FP32', [], [2]),
            initializer('one', 'FP32', [], [1]),
            initializer('axis1', 'INT64', [1], [1]),
          ],
        }),
      },
    }),
  };
}
