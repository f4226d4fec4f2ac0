import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Signature, SigTensor } from '@tessera/onnx';
import { parseModelConfig } from './model-config.js';
import { resolveModelSpec } from './resolve-spec.js';

const tensor = (name: string, over: Partial<SigTensor> = {}): SigTensor => ({
  name,
  datatype: 'FP32',
  elemType: 1,
  shape: [-1, 2],
  dimParams: [undefined, undefined],
  rankKnown: true,
  ...over,
});
const sig = (inputs: SigTensor[], outputs: SigTensor[]): Signature => ({
  inputs,
  outputs,
  opset: 17,
  producer: '',
  irVersion: 8,
});
const where = { version: '1', file: '/r/m/1/model.onnx' };

test('tensors of a type the protocol cannot carry are reported', () => {
  const r = resolveModelSpec(
    parseModelConfig({ name: 'm' }),
    sig([tensor('s', { datatype: undefined, elemType: 8 })], [tensor('y')]),
    where,
  );
  assert.deepEqual(r, { problems: ["graph input 's' has ONNX element type 8, which cannot be served"] });
});

test('an unknown rank must be given in config', () => {
  const unknown = tensor('y', { shape: [], dimParams: [], rankKnown: false });
  const missing = resolveModelSpec(parseModelConfig({ name: 'm' }), sig([tensor('x')], [unknown]), where);
  assert.deepEqual(missing, { problems: ["graph output 'y' has no known rank; give its shape in config.json"] });
  const given = resolveModelSpec(
    parseModelConfig({ name: 'm', outputs: [{ name: 'y', shape: [3] }] }),
    sig([tensor('x')], [unknown]),
    where,
  );
  assert.ok('spec' in given);
  assert.deepEqual(given.spec.outputs, [{ name: 'y', datatype: 'FP32', shape: [3] }]);
});

test('scalars cannot carry a batch dimension, and a graph needs inputs and outputs', () => {
  const scalar = tensor('x', { shape: [], dimParams: [] });
  const r = resolveModelSpec(parseModelConfig({ name: 'm' }), sig([scalar], []), where);
  assert.deepEqual(r, {
    problems: [
      "graph input 'x' is a scalar, so it has no batch dimension; set max_batch_size to 0",
      'the graph has no outputs',
    ],
  });
});

test('pad values must fit the datatype', () => {
  const ints = tensor('x', { datatype: 'UINT8', elemType: 2, shape: [-1, -1] });
  const bools = tensor('b', { datatype: 'BOOL', elemType: 9, shape: [-1, -1] });
  const config = parseModelConfig({
    name: 'm',
    inputs: [
      { name: 'x', pad: [{ axis: 0, value: -1 }] },
      { name: 'b', pad: [{ axis: 0, value: 2 }] },
    ],
  });
  assert.deepEqual(resolveModelSpec(config, sig([ints, bools], [tensor('y')]), where), {
    problems: [
      "input 'x' pad axis 0: value -1 must not be negative for UINT8",
      "input 'b' pad axis 0: value 2 must be 0 or 1 for BOOL",
    ],
  });
});
