import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildModel, decodeModel, type Graph } from '@tessera/onnx';
import * as ort from 'onnxruntime-node';
import { quantizeModel } from './quantize-model.js';

const wave = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + 0.3) * scale);

/**
 * x → Conv → BatchNormalization → Sigmoid → y, shaped like PP-OCR's detector head: the
 * convolution's outputs run into the thousands and the batch norm's running variance is 1e7
 * (beyond float16's 65,504), so a plain float16 conversion turns the variance into +Inf and
 * every output into sigmoid(bias).
 */
const graph: Graph = {
  name: 'wide-variance',
  inputs: [{ name: 'x', datatype: 'FP32', shape: ['N', 1, 8, 8] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: ['N', 4, 8, 8] }],
  nodes: [
    { name: 'conv', op: 'Conv', inputs: ['x', 'k'], outputs: ['wide'], attributes: { pads: { ints: [1, 1, 1, 1] } } },
    { name: 'bn', op: 'BatchNormalization', inputs: ['wide', 'gamma', 'beta', 'mean', 'var'], outputs: ['norm'] },
    { name: 'sigmoid', op: 'Sigmoid', inputs: ['norm'], outputs: ['y'] },
  ],
  initializers: [
    { name: 'k', datatype: 'FP32', dims: [4, 1, 3, 3], data: wave(36, 2000) },
    { name: 'gamma', datatype: 'FP32', dims: [4], data: Float32Array.from([1, 0.8, 1.2, 0.9]) },
    { name: 'beta', datatype: 'FP32', dims: [4], data: Float32Array.from([-0.2, 0.1, 0, 0.3]) },
    { name: 'mean', datatype: 'FP32', dims: [4], data: Float32Array.from([300, -200, 0, 100]) },
    { name: 'var', datatype: 'FP32', dims: [4], data: Float32Array.from([1e7, 4e7, 2e7, 9e7]) },
  ],
};
const original = buildModel(graph, 13);
const feeds = [{ x: new ort.Tensor('float32', wave(64, 1), [1, 1, 8, 8]) }];

test('fp16: a node with a constant beyond float16 (a running variance of 1e7) stays FP32 between casts', async () => {
  const result = await quantizeModel(original, { mode: 'fp16', calibration: feeds });
  const kept = result.report.filter((r) => !r.as);
  assert.deepEqual(
    kept.map((r) => r.node),
    ['bn'],
  );
  assert.match(kept[0]!.reason, /beyond float16's range \(\|v\| up to 9\.00e\+7\)/);
  const model = decodeModel(result.bytes).graph!;
  const types = new Map(model.initializer!.map((t) => [t.name, t.dataType]));
  assert.deepEqual(
    ['k', 'gamma', 'beta', 'mean', 'var'].map((n) => types.get(n)),
    [10, 1, 1, 1, 1],
  );
  const bn = model.node!.findIndex((n) => n.name === 'bn');
  assert.deepEqual([model.node![bn - 1]?.opType, model.node![bn + 1]?.opType], ['Cast', 'Cast']);
  // Before the fix every output was sigmoid(bias): off by up to 0.29 on this input.
  assert.ok(result.differences[0]!.maxAbs < 0.01, `max |Δ| ${result.differences[0]!.maxAbs}`);
});

test('fp16: a node excluded by name stays FP32; one of an op it cannot cast around is refused', async () => {
  const result = await quantizeModel(original, { mode: 'fp16', calibration: feeds, exclude: ['conv'] });
  assert.deepEqual(
    result.report.filter((r) => !r.as).map((r) => r.node),
    ['conv', 'bn'],
  );
  assert.equal(decodeModel(result.bytes).graph!.initializer!.find((t) => t.name === 'k')?.dataType, 1);
  assert.ok(result.differences[0]!.maxAbs < 0.01, `max |Δ| ${result.differences[0]!.maxAbs}`);
  const reshaped = buildModel(
    {
      ...graph,
      nodes: [...graph.nodes, { name: 'flat', op: 'Flatten', inputs: ['y'], outputs: ['z'] }],
      outputs: [{ name: 'z', datatype: 'FP32', shape: ['N', 256] }],
    },
    13,
  );
  await assert.rejects(
    quantizeModel(reshaped, { mode: 'fp16', exclude: ['flat'] }),
    /'flat' \(Flatten\) cannot be kept FP32/,
  );
});

test('fp16: a constant beyond float16 in a node it cannot cast around (a Clip bound) is clamped, not turned into Inf', async () => {
  const clipped = buildModel(
    {
      ...graph,
      nodes: [...graph.nodes, { name: 'clip', op: 'Clip', inputs: ['y', 'low', 'high'], outputs: ['z'] }],
      outputs: [{ name: 'z', datatype: 'FP32', shape: ['N', 4, 8, 8] }],
      initializers: [
        ...graph.initializers!,
        { name: 'low', datatype: 'FP32', dims: [], data: Float32Array.from([-1e6]) },
        { name: 'high', datatype: 'FP32', dims: [], data: Float32Array.from([1e6]) },
      ],
    },
    13,
  );
  const result = await quantizeModel(clipped, { mode: 'fp16', calibration: feeds });
  assert.match(result.report.find((r) => r.node === 'clip')?.reason ?? '', /clamped to ±65504/);
  const high = decodeModel(result.bytes).graph!.initializer!.find((t) => t.name === 'high')!;
  assert.equal(Buffer.from(high.rawData!).readUInt16LE(0), 0x7bff, 'the largest finite float16, not +Inf');
  assert.ok(result.differences[0]!.maxAbs < 0.01, `max |Δ| ${result.differences[0]!.maxAbs}`);
});
