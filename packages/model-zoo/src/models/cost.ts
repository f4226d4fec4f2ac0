import { buildModel, initializer, type Node } from '@tessera/onnx';
import { seededRandom } from '../seeded-random.js';
import type { ZooModel } from '../zoo-model.js';

export interface CostOptions {
  /** Width D of the input and of each layer. */
  dim?: number;
  /** Number K of MatMul + Tanh layers. */
  layers?: number;
  seed?: number;
}

/**
 * A stack of K dense layers (x W_k, then tanh) of width D: compute per item is K D² multiply-adds,
 * tunable for load tests. Weights are uniform in ±1/√D so activations stay in tanh's useful range.
 */
export function cost({ dim = 256, layers = 4, seed = 1 }: CostOptions = {}): ZooModel {
  for (const [what, v] of [
    ['dim', dim],
    ['layers', layers],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`cost ${what} must be a positive integer, got ${v}`);
  }
  return {
    name: 'cost',
    set: 'test',
    source: { generator: 'cost', revision: 1, dim, layers, seed },
    config: {
      name: 'cost',
      max_batch_size: 64,
      max_queue_delay_ms: 2,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [dim] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [dim] }],
      labels: {
        task: 'test: tunable compute, y = tanh(... tanh(x W1) ... WK)',
        dim: String(dim),
        layers: String(layers),
        seed: String(seed),
      },
    },
    files: () => {
      const random = seededRandom(seed);
      const scale = 1 / Math.sqrt(dim);
      const nodes: Node[] = [];
      const weights = [];
      let previous = 'x';
      for (let k = 0; k < layers; k++) {
        const values = Array.from({ length: dim * dim }, () => (2 * random() - 1) * scale);
        weights.push(initializer(`w${k}`, 'FP32', [dim, dim], values));
        const out = k === layers - 1 ? 'y' : `h${k}`;
        nodes.push({ op: 'MatMul', inputs: [previous, `w${k}`], outputs: [`z${k}`] });
        nodes.push({ op: 'Tanh', inputs: [`z${k}`], outputs: [out] });
        previous = out;
      }
      return {
        '1/model.onnx': {
          bytes: buildModel({
            name: 'cost',
            inputs: [{ name: 'x', datatype: 'FP32', shape: ['batch', dim] }],
            outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', dim] }],
            nodes,
            initializers: weights,
          }),
        },
      };
    },
  };
}
