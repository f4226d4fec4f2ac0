import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildModel } from './build-model.js';
import { initializer } from './initializer.js';
import { readModel } from './read-model.js';
import { readSignature } from './read-signature.js';
import type { Graph } from './types.js';

const graph: Graph = {
  name: 'sample',
  inputs: [
    { name: 'x', datatype: 'FP32', shape: ['batch', 4] },
    { name: 'ids', datatype: 'INT64', shape: [-1, -1] },
  ],
  outputs: [{ name: 'y', datatype: 'FP32', shape: ['batch', 4] }],
  nodes: [
    {
      op: 'Custom',
      name: 'n0',
      inputs: ['x', 'w'],
      outputs: ['y'],
      domain: 'example.domain',
      attributes: {
        i: { i: -3 },
        big: { i: 2n ** 60n },
        f: { f: 0.25 },
        s: { s: 'héllo' },
        ints: { ints: [1, -1, 5] },
        floats: { floats: [0.5, -2] },
        strings: { strings: ['a', 'b'] },
        t: { t: initializer('c', 'INT32', [2], [7, -8]) },
      },
    },
  ],
  initializers: [initializer('w', 'FP32', [2, 2], [1, 2, 3, 4]), initializer('h', 'FP16', [1], [1.5])],
};

test('a built model reads back to the same graph', () => {
  const bytes = buildModel(graph, 13);
  const back = readModel(bytes);
  assert.equal(back.opset, 13);
  assert.equal(back.irVersion, 7);
  assert.equal(back.producer, 'tessera');
  assert.deepEqual(back.graph, graph);
});

test('unnamed nodes get a name derived from the operator and position', () => {
  const bytes = buildModel({ ...graph, nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }] });
  assert.equal(readModel(bytes).graph.nodes[0]!.name, 'Identity_0');
});

test('readSignature reports variable dims as -1 and keeps their names', () => {
  const sig = readSignature(buildModel(graph));
  assert.equal(sig.opset, 17);
  assert.equal(sig.irVersion, 8);
  assert.deepEqual(sig.inputs[0], {
    name: 'x',
    datatype: 'FP32',
    elemType: 1,
    shape: [-1, 4],
    dimParams: ['batch', undefined],
    rankKnown: true,
  });
  assert.deepEqual(sig.inputs[1]!.shape, [-1, -1]);
  assert.deepEqual(sig.inputs[1]!.dimParams, [undefined, undefined]);
  assert.deepEqual(
    sig.outputs.map((o) => o.name),
    ['y'],
  );
});

test('graph inputs that are initializers are not part of the signature', () => {
  const withWeightInput: Graph = {
    ...graph,
    inputs: [...graph.inputs, { name: 'w', datatype: 'FP32', shape: [2, 2] }],
  };
  assert.deepEqual(
    readSignature(buildModel(withWeightInput)).inputs.map((i) => i.name),
    ['x', 'ids'],
  );
});

test('an initializer whose data does not fit its dims is refused', () => {
  const bad = {
    ...graph,
    initializers: [{ name: 'w', datatype: 'FP32' as const, dims: [3], data: new Float32Array(2) }],
  };
  assert.throws(() => buildModel(bad), /initializer 'w'.*needs 3 elements/);
  const wrongType = {
    ...graph,
    initializers: [{ name: 'w', datatype: 'INT64' as const, dims: [2], data: new Float32Array(2) }],
  };
  assert.throws(() => buildModel(wrongType), /initializer 'w'/);
  assert.throws(() => initializer('v', 'FP32', [2], [1]), /needs 2 values/);
});

test('an attribute without a known tag is refused', () => {
  const bad = { ...graph, nodes: [{ op: 'X', inputs: [], outputs: ['y'], attributes: { a: {} as never } }] };
  assert.throws(() => buildModel(bad), /attribute 'a' has no recognised tag/);
});
