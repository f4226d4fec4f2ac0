import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildModel } from './build-model.js';
import { editGraph } from './edit-graph.js';
import { initializer } from './initializer.js';
import { readModel } from './read-model.js';
import { decodeModel, encodeModel } from './proto.js';
import { readSignature } from './read-signature.js';

const original = buildModel(
  {
    name: 'softmax',
    inputs: [{ name: 'x', datatype: 'FP32', shape: ['N', 'T', 4] }],
    outputs: [
      { name: 'probs', datatype: 'FP32', shape: ['N', 'T', 4] },
      { name: 'doubled', datatype: 'FP32', shape: ['N', 'T', 4] },
    ],
    nodes: [
      { op: 'Softmax', inputs: ['x'], outputs: ['probs'], attributes: { axis: { i: 2 } } },
      { op: 'Mul', inputs: ['x', 'two'], outputs: ['doubled'] },
    ],
    initializers: [initializer('two', 'FP32', [], [2])],
  },
  11,
);

test('editGraph drops outputs, appends nodes and outputs, and keeps every node and weight', async () => {
  const edited = editGraph(original, {
    keepOutputs: (name) => name === 'doubled',
    nodes: [
      {
        op: 'ArgMax',
        name: 'best',
        inputs: ['probs'],
        outputs: ['ids'],
        attributes: { axis: { i: 2 }, keepdims: { i: 0 } },
      },
      {
        op: 'ReduceMax',
        name: 'top',
        inputs: ['probs'],
        outputs: ['scores'],
        attributes: { axes: { ints: [2] }, keepdims: { i: 0 } },
      },
    ],
    outputs: [
      { name: 'ids', datatype: 'INT64', shape: ['N', 'T'] },
      { name: 'scores', datatype: 'FP32', shape: ['N', 'T'] },
    ],
  });
  const sig = readSignature(edited);
  assert.deepEqual(
    sig.outputs.map((o) => [o.name, o.datatype, o.shape]),
    [
      ['doubled', 'FP32', [-1, -1, 4]],
      ['ids', 'INT64', [-1, -1]],
      ['scores', 'FP32', [-1, -1]],
    ],
  );
  assert.equal(sig.opset, 11);
  const before = readModel(original).graph;
  const after = readModel(edited).graph;
  assert.deepEqual(after.nodes.slice(0, 2), before.nodes);
  assert.deepEqual(after.initializers, before.initializers);

  const session = await ort.InferenceSession.create(edited, { executionProviders: ['cpu'] });
  try {
    assert.deepEqual(session.outputNames, ['doubled', 'ids', 'scores']);
    const x = Float32Array.from([0, 3, 1, 2, 5, 5, -1, 0]);
    const out = await session.run({ x: new ort.Tensor('float32', x, [1, 2, 4]) });
    assert.deepEqual([...(out.ids!.data as BigInt64Array)], [1n, 0n]); // ties go to the first
    assert.deepEqual(out.scores!.dims, [1, 2]);
    const e = [Math.exp(0), Math.exp(3), Math.exp(1), Math.exp(2)];
    assert.ok(Math.abs((out.scores!.data as Float32Array)[0]! - e[1]! / e.reduce((a, b) => a + b)) < 1e-6);
  } finally {
    await session.release();
  }
});

test('editGraph refuses a new output that clashes with a kept one', () => {
  assert.throws(
    () => editGraph(original, { keepOutputs: () => true, outputs: [{ name: 'probs', datatype: 'FP32', shape: [1] }] }),
    /already has an output 'probs'/,
  );
});

test('editGraph keeps the fields this package does not model: metadata, value_info, doc strings', () => {
  const model = decodeModel(original);
  model.docString = 'kept';
  model.metadataProps.push({ key: 'author', value: 'tessera' });
  model.graph!.valueInfo!.push({ name: 'probs', docString: 'softmax over the last axis' });
  const edited = decodeModel(editGraph(encodeModel(model), { keepOutputs: () => true }));
  assert.equal(edited.docString, 'kept');
  assert.deepEqual(
    edited.metadataProps.map((p) => [p.key, p.value]),
    [['author', 'tessera']],
  );
  assert.equal(edited.graph!.valueInfo![0]!.docString, 'softmax over the last axis');
});
