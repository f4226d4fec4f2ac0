import { readFileSync } from 'node:fs';
import { fromJson, type Datatype, type TensorInput } from '../tensors.js';
import type { ModelMetadata } from '../types.js';
import { readNpy } from './npy.js';

/** Shape of a rectangular nested JSON array. */
function nestedShape(value: unknown): number[] {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape;
}

/**
 * One `--input name=VALUE`: `@file.npy` (datatype and shape from the file), `@file.json` or a
 * JSON literal (nested arrays; the datatype is the model's).
 */
export function parseInput(spec: string, metadata: ModelMetadata): TensorInput {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--input takes name=@file.npy, name=@file.json or name=<json>, got '${spec}'`);
  const name = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  const meta = metadata.inputs.find((i) => i.name === name);
  if (!meta)
    throw new Error(
      `model '${metadata.name}' has no input '${name}'; inputs: ${metadata.inputs.map((i) => i.name).join(', ')}`,
    );
  if (value.startsWith('@') && value.endsWith('.npy')) {
    const npy = readNpy(readFileSync(value.slice(1)));
    return { name, datatype: npy.datatype, shape: npy.shape, data: npy.data };
  }
  const json = JSON.parse(value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value) as unknown;
  return { name, datatype: meta.datatype, shape: nestedShape(json), data: fromJson(meta.datatype as Datatype, json) };
}

/** Zeros of every input, with each variable dimension (-1) set to 1: what `perf` sends unless told. */
export function zeroInputs(metadata: ModelMetadata): TensorInput[] {
  return metadata.inputs.map((i) => {
    const shape = i.shape.map((d) => (d < 0 ? 1 : d));
    return {
      name: i.name,
      datatype: i.datatype,
      shape,
      data: fromJson(i.datatype, new Array(shape.reduce((a, b) => a * b, 1)).fill(0)),
    };
  });
}
