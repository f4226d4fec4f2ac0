import { buildModel, initializer } from '@tessera/onnx';
import type { ZooModel } from '../zoo-model.js';

export const GATHER_TABLE_SIZE = 10;

/**
 * value = table[index] with table[i] = 1.5 i. An index outside [-10, 9] passes every
 * check the service can make up front but makes onnxruntime fail the run, which is how
 * a request that breaks its batch is provoked.
 */
export function gather(): ZooModel {
  const table = Array.from({ length: GATHER_TABLE_SIZE }, (_, i) => i * 1.5);
  return {
    name: 'gather',
    set: 'test',
    source: { generator: 'gather', revision: 1 },
    config: {
      name: 'gather',
      max_batch_size: 64,
      max_queue_delay_ms: 2,
      inputs: [{ name: 'index', datatype: 'INT64', shape: [1] }],
      outputs: [{ name: 'value', datatype: 'FP32', shape: [1] }],
      labels: {
        task: `test: value = 1.5 * index for index in [0, ${GATHER_TABLE_SIZE - 1}]; other indices fail at run time`,
      },
    },
    files: () => ({
      '1/model.onnx': {
        bytes: buildModel({
          name: 'gather',
          inputs: [{ name: 'index', datatype: 'INT64', shape: ['batch', 1] }],
          outputs: [{ name: 'value', datatype: 'FP32', shape: ['batch', 1] }],
          nodes: [{ op: 'Gather', inputs: ['table', 'index'], outputs: ['value'], attributes: { axis: { i: 0 } } }],
          initializers: [initializer('table', 'FP32', [GATHER_TABLE_SIZE], table)],
        }),
      },
    }),
  };
}
