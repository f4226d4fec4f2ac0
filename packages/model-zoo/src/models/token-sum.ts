import { buildModel, initializer } from '@tessera/onnx';
import type { ZooModel } from '../zoo-model.js';

/**
 * total = Σ ids and mask_count = #(ids ≠ 0) per item, over a variable-length token axis.
 * Items of different lengths share a batch by zero-padding, which leaves both sums exact,
 * so any padding mistake shows in the answers.
 */
export function tokenSum(): ZooModel {
  return {
    name: 'token-sum',
    set: 'test',
    source: { generator: 'token-sum', revision: 1 },
    config: {
      name: 'token-sum',
      max_batch_size: 32,
      max_queue_delay_ms: 2,
      inputs: [{ name: 'ids', datatype: 'INT64', shape: [-1], pad: [{ axis: 0, value: 0 }] }],
      outputs: [
        { name: 'total', datatype: 'INT64', shape: [] },
        { name: 'mask_count', datatype: 'INT64', shape: [] },
      ],
      labels: { task: 'test: total = sum(ids), mask_count = count(ids != 0) per item; ids padded with 0' },
    },
    files: () => ({
      '1/model.onnx': {
        bytes: buildModel({
          name: 'token_sum',
          inputs: [{ name: 'ids', datatype: 'INT64', shape: ['batch', 'tokens'] }],
          outputs: [
            { name: 'total', datatype: 'INT64', shape: ['batch'] },
            { name: 'mask_count', datatype: 'INT64', shape: ['batch'] },
          ],
          nodes: [
            { op: 'ReduceSum', inputs: ['ids', 'axis1'], outputs: ['total'], attributes: { keepdims: { i: 0 } } },
            { op: 'Equal', inputs: ['ids', 'zero'], outputs: ['is_pad'] },
            { op: 'Not', inputs: ['is_pad'], outputs: ['is_token'] },
            { op: 'Cast', inputs: ['is_token'], outputs: ['token_flags'], attributes: { to: { i: 7 } } }, // 7 = INT64
            {
              op: 'ReduceSum',
              inputs: ['token_flags', 'axis1'],
              outputs: ['mask_count'],
              attributes: { keepdims: { i: 0 } },
            },
          ],
          initializers: [initializer('zero', 'INT64', [], [0]), initializer('axis1', 'INT64', [1], [1])],
        }),
      },
    }),
  };
}
