/** Small generated ONNX models for the runtime's tests, written to a temporary directory. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, initializer, type Graph } from '@tessera/onnx';
import type { Datatype, ExecutionProvider, ModelSpec, TensorSpec } from '@tessera/contract';

export class ModelDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'tessera-runtime-'));

  write(graph: Graph, overrides: Partial<ModelSpec> = {}): ModelSpec {
    const file = join(this.dir, `${graph.name}.onnx`);
    writeFileSync(file, buildModel(graph));
    // Graph shapes carry the batch dimension first; the configuration leaves it out.
    const spec = (v: Graph['inputs'][number]): TensorSpec => ({
      name: v.name,
      datatype: v.datatype,
      shape: v.shape.slice(1).map((d) => (typeof d === 'number' ? d : -1)),
    });
    return {
      name: graph.name,
      version: '1',
      platform: 'onnxruntime_onnx',
      file,
      maxBatchSize: 64,
      maxQueueDelayMs: 5,
      maxItemsPerRequest: 64,
      inputs: graph.inputs.map(spec),
      outputs: graph.outputs.map(spec),
      executionProviders: ['cuda', 'cpu'] satisfies ExecutionProvider[],
      labels: {},
      ...overrides,
    };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const io = (name: string, datatype: Datatype, shape: (number | string)[]) => ({ name, datatype, shape });

/** y = Relu(x) (FP32) and idx = ArgMax(x, axis 1) (INT64): two outputs of different types. */
export function reluArgmax(): Graph {
  return {
    name: 'relu_argmax',
    inputs: [io('x', 'FP32', ['N', 4])],
    outputs: [io('y', 'FP32', ['N', 4]), io('idx', 'INT64', ['N'])],
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['y'] },
      { op: 'ArgMax', inputs: ['x'], outputs: ['idx'], attributes: { axis: { i: 1 }, keepdims: { i: 0 } } },
    ],
    initializers: [],
  };
}

/** A chain of `depth` [width x width] MatMuls: run time grows linearly with the batch. */
export function matmulChain(width = 512, depth = 8): Graph {
  const w = new Float32Array(width * width).map((_, i) => ((i % 7) - 3) / (width * 4));
  const nodes = Array.from({ length: depth }, (_, i) => ({
    op: 'MatMul',
    inputs: [i === 0 ? 'x' : `h${i - 1}`, 'w'],
    outputs: [i === depth - 1 ? 'y' : `h${i}`],
  }));
  return {
    name: 'matmul_chain',
    inputs: [io('x', 'FP32', ['N', width])],
    outputs: [io('y', 'FP32', ['N', width])],
    nodes,
    initializers: [{ name: 'w', datatype: 'FP32', dims: [width, width], data: w }],
  };
}

/** y = table[ids]: an id outside 0..3 is an input the model rejects while running. */
export function gatherTable(): Graph {
  return {
    name: 'gather_table',
    inputs: [io('ids', 'INT64', ['N'])],
    outputs: [io('y', 'FP32', ['N', 2])],
    nodes: [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['y'], attributes: { axis: { i: 0 } } }],
    initializers: [initializer('table', 'FP32', [4, 2], [0, 1, 10, 11, 20, 21, 30, 31])],
  };
}

/**
 * x [N,4] tiled to [N, 4*repeats] then summed back to [N,1]: the intermediate takes
 * N * repeats * 16 bytes, so the batch size alone decides whether the run fits in memory.
 */
export function tileSum(repeats = 1 << 16): Graph {
  return {
    name: 'tile_sum',
    inputs: [io('x', 'FP32', ['N', 4])],
    outputs: [io('y', 'FP32', ['N', 1])],
    nodes: [
      { op: 'Tile', inputs: ['x', 'repeats'], outputs: ['t'] },
      { op: 'ReduceSum', inputs: ['t', 'axes'], outputs: ['y'], attributes: { keepdims: { i: 1 } } },
    ],
    initializers: [initializer('repeats', 'INT64', [2], [1, repeats]), initializer('axes', 'INT64', [1], [1])],
  };
}

/** Collects log lines so tests can count warnings. */
export function recordingLogger() {
  const lines: { level: 'info' | 'warn' | 'error'; obj: object; msg: string }[] = [];
  const at = (level: 'info' | 'warn' | 'error') => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}
