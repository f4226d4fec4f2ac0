import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildModel, decodeModel, readSignature, type Graph } from '@tessera/onnx';
import * as ort from 'onnxruntime-node';
import { quantizeModel } from './quantize-model.js';

/** A fixed pseudo-random sequence, so every run sees the same weights and inputs. */
function values(n: number, seed: number, scale = 1): Float32Array {
  let x = seed;
  return Float32Array.from(
    { length: n },
    () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 2 * scale,
  );
}

/** ids → Gather(table) → mean → MatMul(w) → Relu → Conv(k) (as [N, 1, 8, 8]) → y, at opset 11 so the upgrade runs too. */
const graph: Graph = {
  name: 'sample',
  inputs: [{ name: 'ids', datatype: 'INT64', shape: ['N', 'T'] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: ['N', 4, 8, 8] }],
  nodes: [
    { op: 'Gather', inputs: ['table', 'ids'], outputs: ['rows'], attributes: { axis: { i: 0 } } },
    { op: 'ReduceMean', inputs: ['rows'], outputs: ['mean'], attributes: { axes: { ints: [1] }, keepdims: { i: 0 } } },
    { op: 'MatMul', inputs: ['mean', 'w'], outputs: ['hidden'] },
    { op: 'Relu', inputs: ['hidden'], outputs: ['positive'] },
    { op: 'Reshape', inputs: ['positive', 'image_shape'], outputs: ['image'] },
    { op: 'Conv', inputs: ['image', 'k', 'b'], outputs: ['y'], attributes: { pads: { ints: [1, 1, 1, 1] } } },
  ],
  initializers: [
    { name: 'table', datatype: 'FP32', dims: [512, 64], data: values(512 * 64, 1) },
    { name: 'w', datatype: 'FP32', dims: [64, 64], data: values(64 * 64, 2, 0.3) },
    { name: 'image_shape', datatype: 'INT64', dims: [4], data: BigInt64Array.from([-1n, 1n, 8n, 8n]) },
    { name: 'k', datatype: 'FP32', dims: [4, 1, 3, 3], data: values(36, 3) },
    { name: 'b', datatype: 'FP32', dims: [4], data: values(4, 4) },
  ],
};
const original = buildModel(graph, 11);
const feeds = Array.from({ length: 8 }, (_, s) => ({
  ids: new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: 12 }, (_, i) => BigInt((s * 37 + i * 11) % 512)),
    [2, 6],
  ),
}));

for (const [mode, perChannel, expected] of [
  ['dynamic', false, ['Gather (INT8 table)', 'MatMulInteger']],
  ['dynamic', true, ['Gather (INT8 table)', 'MatMulInteger']],
  ['static', true, ['QDQ MatMul']],
] as const) {
  test(`${mode}${perChannel ? ' per channel' : ''}: the output runs, keeps the signature and stays within 5 % of the original's range`, async () => {
    const result = await quantizeModel(original, { mode, perChannel, minWeights: 64, calibration: feeds });
    assert.deepEqual(
      result.report
        .filter((r) => r.as)
        .map((r) => r.as)
        .sort(),
      [...expected].sort(),
    );
    assert.equal(result.fromOpset, 11);
    assert.deepEqual(readSignature(result.bytes).inputs, readSignature(original).inputs);
    assert.deepEqual(readSignature(result.bytes).outputs, readSignature(original).outputs);
    const ops = decodeModel(result.bytes).graph!.node!.map((n) => n.opType);
    if (mode === 'dynamic') assert.ok(ops.includes('MatMulInteger') && ops.includes('DynamicQuantizeLinear'));
    else assert.ok(ops.includes('QuantizeLinear') && ops.includes('DequantizeLinear'));
    // The Conv weight has 36 elements, below minWeights: left in FP32 with the reason.
    assert.match(result.report.find((r) => r.op === 'Conv')?.reason ?? '', mode === 'static' ? /below 64/ : /below 64/);
    const session = await ort.InferenceSession.create(original);
    const reference = (await session.run(feeds[0]!)).y!.data as Float32Array;
    const range = Math.max(...reference.map(Math.abs));
    const [y] = result.differences;
    assert.equal(y?.output, 'y');
    assert.ok(y.maxAbs < 0.05 * range, `max |Δ| ${y.maxAbs} against a range of ${range}`);
    assert.ok(y.maxAbs > 0, 'INT8 weights change the result a little');
  });
}

test('fp16: weights and activations in float16, FP32 inputs and outputs kept', async () => {
  const result = await quantizeModel(original, { mode: 'fp16', calibration: feeds });
  const model = decodeModel(result.bytes);
  assert.ok(
    model.graph!.initializer!.filter((t) => t.name === 'table' || t.name === 'w').every((t) => t.dataType === 10),
  );
  assert.deepEqual(readSignature(result.bytes).outputs, readSignature(original).outputs);
  assert.ok(result.differences[0]!.maxAbs < 0.01, `max |Δ| ${result.differences[0]!.maxAbs}`);
});

test('static quantization without calibration inputs is refused', async () => {
  await assert.rejects(quantizeModel(original, { mode: 'static' }), /needs calibration feeds/);
});

test('a node excluded by name stays FP32 in either mode; a name the model lacks is refused', async () => {
  const named = buildModel({ ...graph, nodes: graph.nodes.map((n, i) => ({ ...n, name: `${n.op}_${i}` })) }, 11);
  for (const mode of ['dynamic', 'static'] as const) {
    const result = await quantizeModel(named, { mode, minWeights: 64, calibration: feeds, exclude: ['MatMul_2'] });
    const matmul = result.report.find((r) => r.node === 'MatMul_2');
    assert.deepEqual([matmul?.as, matmul?.reason], [undefined, 'excluded by name (kept FP32)'], mode);
    const nodes = decodeModel(result.bytes).graph!.node!;
    assert.equal(nodes.find((n) => n.name === 'MatMul_2')?.input?.[1], 'w', `${mode}: the FP32 weight is read as is`);
    assert.ok(!nodes.some((n) => n.opType === 'MatMulInteger'), mode);
    if (mode === 'dynamic')
      assert.ok(
        result.report.some((r) => r.as === 'Gather (INT8 table)'),
        'the rest is quantized',
      );
  }
  await assert.rejects(quantizeModel(named, { mode: 'dynamic', exclude: ['conv_9'] }), /not in the model: conv_9/);
  const onlyGather = await quantizeModel(named, { mode: 'dynamic', minWeights: 64, opTypes: ['Gather'] });
  assert.deepEqual(
    onlyGather.report.map((r) => [r.op, r.as ?? r.reason]),
    [
      ['Gather', 'Gather (INT8 table)'],
      ['MatMul', 'op type not selected (kept FP32)'],
      ['Conv', 'op type not selected (kept FP32)'],
    ],
  );
});

test('static with uint8ConvWeights: Conv weights are UINT8 around 128 over the full 8-bit range, MatMul weights stay INT8', async () => {
  const result = await quantizeModel(original, {
    mode: 'static',
    perChannel: true,
    minWeights: 16,
    uint8ConvWeights: true,
    calibration: feeds,
  });
  const weights = decodeModel(result.bytes).graph!.initializer!;
  const conv = weights.find((t) => t.name?.endsWith('weight_quantized') && t.dims!.length === 4)!;
  const matmul = weights.find((t) => t.name?.endsWith('weight_quantized') && t.dims!.length === 2)!;
  assert.deepEqual([conv.dataType, matmul.dataType], [2, 3]); // UINT8, INT8
  const convValues = [...(conv.rawData as Uint8Array)];
  assert.ok(Math.max(...convValues) === 255 || Math.min(...convValues) === 1, 'a channel uses the full range');
  const session = await ort.InferenceSession.create(original);
  const range = Math.max(...((await session.run(feeds[0]!)).y!.data as Float32Array).map(Math.abs));
  assert.ok(result.differences[0]!.maxAbs < 0.05 * range, `max |Δ| ${result.differences[0]!.maxAbs} of ${range}`);
});
