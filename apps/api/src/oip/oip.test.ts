import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadApiConfig } from '@tessera/config';
import { toWire, type ModelSpec } from '@tessera/contract';
import { parseStats } from '@tessera/queue';
import { selectVersions } from '@tessera/model-repository';
import { classificationsOf, classify, encodeOutputs } from './classification.js';
import { tritonModelConfig } from './model-config.js';

const model = {
  name: 'm',
  version: '1',
  platform: 'onnxruntime_onnx',
  file: '/repo/m/1/model.onnx',
  maxBatchSize: 8,
  maxQueueDelayMs: 2,
  maxItemsPerRequest: 8,
  inputs: [{ name: 'x', datatype: 'FP32', shape: [3] }],
  outputs: [{ name: 'p', datatype: 'FP32', shape: [3] }],
  executionProviders: ['cpu'],
  labels: {},
} as ModelSpec;
const probs = toWire({
  name: 'p',
  datatype: 'FP32',
  shape: [2, 3],
  data: new Float32Array([0.1, 0.7, 0.2, 0.5, 0.25, 0.25]),
});

test('classification: the top k of each item as "score:index:label", highest first, ties by index', () => {
  assert.deepEqual(classify(model, probs, 2, ['a', 'b', 'c']), {
    name: 'p',
    datatype: 'BYTES',
    shape: [2, 2],
    data: ['0.700000:1:b', '0.200000:2:c', '0.500000:0:a', '0.250000:1:b'],
  });
  assert.deepEqual(
    classify(model, probs, 5, undefined).data!.slice(0, 3),
    ['0.700000:1', '0.200000:2', '0.100000:0'],
    'k is capped by the classes; no labels, no ":label"',
  );
  assert.throws(() => classificationsOf([{ name: 'p', parameters: { classification: 0 } }]), /positive integer/);
  assert.deepEqual(
    [...classificationsOf([{ name: 'p', parameters: { classification: 3 } }, { name: 'q' }])],
    [['p', 3]],
  );
});

test('a classified output in binary is BYTES elements: a 4-byte length, then the string', () => {
  const classified = new Map([['p', classify(model, probs, 1, ['a', 'b', 'c'])]]);
  const { outputs, chunks } = encodeOutputs([probs], new Set(['p']), classified);
  assert.deepEqual(outputs[0]!.parameters, { binary_data_size: 4 + 12 + 4 + 12 });
  assert.equal(chunks[0]!.readUInt32LE(0), 12);
  assert.equal(chunks[0]!.subarray(4, 16).toString(), '0.700000:1:b');
});

test("statistics fields read back as Triton's JSON; missing ones are zeros", () => {
  const s = parseStats({
    'success.count': '3',
    'success.ns': '300',
    inference_count: '5',
    'batch.4.count': '1',
    'batch.4.ns': '40',
    'batch.1.count': '1',
    'batch.1.ns': '9',
  });
  assert.deepEqual(s.inference_stats.success, { count: 3, ns: 300 });
  assert.deepEqual(s.inference_stats.fail, { count: 0, ns: 0 });
  assert.equal(s.inference_count, 5);
  assert.deepEqual(
    s.batch_stats.map((b) => [b.batch_size, b.compute_infer.count, b.compute_infer.ns]),
    [
      [1, 1, 9],
      [4, 1, 40],
    ],
  );
});

test('version policies select as Triton: latest n, all, specific', () => {
  const versions = ['1', '10', '2', '3'];
  assert.deepEqual(selectVersions(versions, { latest: { num_versions: 2 } }), ['3', '10']);
  assert.deepEqual(selectVersions(versions, { all: {} }), ['1', '2', '3', '10']);
  assert.deepEqual(selectVersions(versions, { specific: { versions: [2, 7] } }), ['2']);
});

test("model configuration: Triton's types and dims, the batcher, the instance kind from the provider in use", () => {
  const workers = [{ id: 'w', models: ['m@1'], providers: { 'm@1': 'cuda' }, caps: { 'm@1': 8 }, startedAt: 0, at: 0 }];
  const c = tritonModelConfig(model, workers, loadApiConfig({}));
  assert.deepEqual((c.input as object[])[0], {
    name: 'x',
    data_type: 'TYPE_FP32',
    dims: [3],
    format: 'FORMAT_NONE',
    allow_ragged_batch: false,
    optional: false,
  });
  assert.deepEqual((c.dynamic_batching as { preferred_batch_size: number[] }).preferred_batch_size, [8]);
  assert.deepEqual(c.instance_group, [{ name: 'm_cuda', kind: 'KIND_GPU', count: 1 }]);
  assert.equal(tritonModelConfig({ ...model, maxBatchSize: 0 }, [], loadApiConfig({})).dynamic_batching, undefined);
});
