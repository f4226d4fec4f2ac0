import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { readSignature } from '@tessera/onnx';
import { CONVERTED_FILES } from './convert.js';
import { fastTextToOnnx, ID_OFFSET, PAD_ID } from './fasttext-onnx.js';
import { convertedLid, referenceModel } from './reference-model.js';
import { FastTextTokenizer } from './tokenizer.js';

async function session(): Promise<ort.InferenceSession> {
  const { files } = await convertedLid();
  return ort.InferenceSession.create(files[CONVERTED_FILES.model]!, {
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
  });
}

function ids(rows: number[][], width = Math.max(...rows.map((r) => r.length))): ort.Tensor {
  const data = new BigInt64Array(rows.length * width).fill(BigInt(PAD_ID));
  rows.forEach((r, i) => r.forEach((v, j) => (data[i * width + j] = BigInt(v + ID_OFFSET))));
  return new ort.Tensor('int64', data, [rows.length, width]);
}

test('signature: ids INT64 [batch, tokens] → probs FP32 [batch, 176]', async () => {
  const { files, labels } = await convertedLid();
  const sig = readSignature(files[CONVERTED_FILES.model]!);
  assert.deepEqual(
    sig.inputs.map((t) => [t.name, t.datatype, t.shape]),
    [['ids', 'INT64', [-1, -1]]],
  );
  assert.deepEqual(
    sig.outputs.map((t) => [t.name, t.datatype, t.shape]),
    [['probs', 'FP32', [-1, 176]]],
  );
  assert.equal(labels.length, 176);
  assert.deepEqual(labels.slice(0, 3), ['en', 'ru', 'de']);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(files[CONVERTED_FILES.labels])), labels);
});

test('every label probability equals fastText predict, and padding changes nothing', async () => {
  const { model, labels } = await convertedLid();
  const tokenizer = FastTextTokenizer.fromModel(model);
  const ref = await referenceModel();
  const texts = [
    'Tout le monde a droit à la vie',
    '人人生而自由，在尊严和权利上一律平等。',
    'Hello',
    'Jeder hat das Recht auf Leben, Freiheit und Sicherheit der Person.',
  ];
  const rows = texts.map((t) => tokenizer.encode(t));
  const s = await session();
  try {
    const batched = (await s.run({ ids: ids(rows, 64) })).probs!.data as Float32Array;
    for (const [i, text] of texts.entries()) {
      const alone = (await s.run({ ids: ids([rows[i]!]) })).probs!.data as Float32Array;
      const row = batched.subarray(i * 176, (i + 1) * 176);
      assert.ok(
        alone.every((p, j) => Math.abs(p - row[j]!) <= 1e-7),
        `${text}: padded to 64 tokens in a batch vs alone`,
      );
      for (const { label, prob } of ref.predict(text, -1)) {
        assert.ok(
          Math.abs(row[labels.indexOf(label)]! - prob) <= 1e-6,
          `${text}: ${label} ${row[labels.indexOf(label)]} vs ${prob}`,
        );
      }
    }
    // A row of padding only: a zero hidden vector, each label 2^-depth (times (1/2 + 1e-5) factors), never NaN.
    const empty = (await s.run({ ids: new ort.Tensor('int64', new BigInt64Array(3).fill(BigInt(PAD_ID)), [1, 3]) }))
      .probs!.data as Float32Array;
    assert.ok(empty.every((p) => Number.isFinite(p) && p > 0 && p < 0.5));
  } finally {
    await s.release();
  }
});

test('only supervised hierarchical-softmax models convert', async () => {
  const { model } = await convertedLid();
  assert.throws(
    () => fastTextToOnnx({ ...model, args: { ...model.args, loss: 'softmax' } }),
    /only hierarchical-softmax models/,
  );
  assert.throws(() => fastTextToOnnx({ ...model, args: { ...model.args, model: 'cbow' } }), /only supervised models/);
});
