import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, initializer, type Graph } from '@tessera/onnx';

/** y = x + 1 over a [batch, 4] FP32 input. */
export function affineGraph(batch: number | string = 'N'): Graph {
  return {
    name: 'affine',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [batch, 4] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [batch, 4] }],
    nodes: [{ op: 'Add', inputs: ['x', 'one'], outputs: ['y'] }],
    initializers: [initializer('one', 'FP32', [], [1])],
  };
}

/** total = sum of ids over a [batch, tokens] INT64 input; out = rows as given. */
export function tokensGraph(): Graph {
  return {
    name: 'tokens',
    inputs: [{ name: 'ids', datatype: 'INT64', shape: ['N', 'T'] }],
    outputs: [
      { name: 'total', datatype: 'INT64', shape: ['N'] },
      { name: 'echo', datatype: 'INT64', shape: ['N', 'T'] },
    ],
    nodes: [
      { op: 'ReduceSum', inputs: ['ids', 'axes'], outputs: ['total'], attributes: { keepdims: { i: 0 } } },
      { op: 'Identity', inputs: ['ids'], outputs: ['echo'] },
    ],
    initializers: [initializer('axes', 'INT64', [1], [1])],
  };
}

export async function tempRepo(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tessera-repo-'));
}

export async function writeModel(
  repo: string,
  name: string,
  config: unknown,
  graph: Graph | undefined,
  { version = '1', file = 'model.onnx' } = {},
): Promise<void> {
  await mkdir(join(repo, name, version), { recursive: true });
  if (config !== undefined) {
    await writeFile(
      join(repo, name, 'config.json'),
      typeof config === 'string' ? config : JSON.stringify(config, null, 2),
    );
  }
  if (graph) await writeFile(join(repo, name, version, file), buildModel(graph));
}
