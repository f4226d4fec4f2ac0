import { buildModel, initializer } from '@tessera/onnx';
import type { ZooModel } from '../zoo-model.js';

/** Repeats giving each item a 64 MiB intermediate: 4 floats x R x 4 bytes. */
export const DEFAULT_MEMORY_HOG_REPEATS = (64 * 1024 * 1024) / 16;

/**
 * y = R * Σ x, computed wastefully: each item's 4 values are tiled R times before the sum,
 * so activation memory is batch x 16 R bytes. Large batches run out of memory for real.
 */
export function memoryHog(repeats = DEFAULT_MEMORY_HOG_REPEATS): ZooModel {
  if (!Number.isSafeInteger(repeats) || repeats < 1)
    throw new RangeError(`memory-hog repeats must be a positive integer, got ${repeats}`);
  const bytesPerItem = 16 * repeats;
  return {
    name: 'memory-hog',
    set: 'test',
    source: { generator: 'memory-hog', revision: 1, repeats },
    config: {
      name: 'memory-hog',
      max_batch_size: 64,
      max_queue_delay_ms: 2,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
      labels: {
        task: 'test: y = repeats * sum(x); needs bytes_per_item of activation memory per item',
        repeats: String(repeats),
        bytes_per_item: String(bytesPerItem),
      },
    },
    files: () => ({
      '1/model.onnx': {
        bytes: buildModel({
          name: 'memory_hog',
          inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', 4] }],
          outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 1] }],
          nodes: [
            { op: 'Tile', inputs: ['x', 'repeats'], outputs: ['tiled'] },
            { op: 'ReduceSum', inputs: ['tiled', 'axis1'], outputs: ['y'], attributes: { keepdims: { i: 1 } } },
          ],
          initializers: [initializer('repeats', 'INT64', [2], [1, repeats]), initializer('axis1', 'INT64', [1], [1])],
        }),
      },
    }),
  };
}
