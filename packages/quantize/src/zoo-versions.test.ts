import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { prepareRepository } from '@tessera/model-zoo';
import { readSignature } from '@tessera/onnx';
import { compareOcrVersions } from '@tessera/ocr/testing';
import { compareLidVersions } from './measure/lid-agreement.js';
import { prepareQuantizedVersions } from './prepare-versions.js';
import { QUANTIZATION_FILE, type VersionRecord } from './write-version.js';

// The repository `npm test` prepared (bootstrap quantizes version 2 there); prepared here when absent.
const repo = process.env.MODEL_REPOSITORY ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../.run/models');
const MODELS = ['lid176', 'ocr-det', 'ocr-cls', 'ocr-rec'];

before(async () => {
  await prepareRepository(repo, { only: 'demo' });
  await prepareQuantizedVersions(repo);
});

// Largest size of version 2 against version 1: ocr-cls keeps most of its small convolutions in
// FP32 and ocr-rec all of its convolutions (only its MatMuls are INT8; see docs/quantization.md).
const MAX_RATIO: Record<string, number> = { 'ocr-cls': 0.7, 'ocr-rec': 0.75 };

test("each demo model has an INT8 version 2 with version 1's signature and a smaller file", async () => {
  for (const model of MODELS) {
    const [v1, v2] = await Promise.all(['1', '2'].map((v) => readFile(join(repo, model, v, 'model.onnx'))));
    const [a, b] = [readSignature(v1!), readSignature(v2!)];
    assert.deepEqual(b.inputs, a.inputs, model);
    assert.deepEqual(b.outputs, a.outputs, model);
    assert.ok(b.opset >= 13, `${model}: opset ${b.opset}`);
    const record = JSON.parse(await readFile(join(repo, model, '2', QUANTIZATION_FILE), 'utf8')) as VersionRecord;
    assert.ok(record.quantized.length > 0, `${model}: nothing quantized`);
    const ratio = v2!.byteLength / v1!.byteLength;
    assert.ok(ratio < (MAX_RATIO[model] ?? 0.35), `${model}: ${v2!.byteLength} of ${v1!.byteLength} bytes`);
    if (model === 'ocr-rec')
      assert.ok(
        record.quantized.every((q) => q.includes('MatMul')),
        `ocr-rec: its recipe quantizes only MatMuls: ${record.quantized.join(', ')}`,
      );
  }
});

test('lid176: versions 1 and 2 name the same language for at least 99 % of a fixed UDHR sample', async () => {
  const agreement = await compareLidVersions(join(repo, 'lid176'), ['1', '2'], 25);
  assert.ok(agreement.texts > 1500, `${agreement.texts} texts`);
  assert.ok(agreement.top1 >= 0.99, JSON.stringify(agreement));
  assert.ok(agreement.maxAbsDp < 0.1, JSON.stringify(agreement));
});

test('PP-OCR: version 2 reads a fixed sample of rendered lines and pages as version 1 does, within the stated bounds', async () => {
  // Measured in docs/quantization.md on this sample: 24 of 24 lines and 26 of 28 page lines identical.
  const a = await compareOcrVersions(repo, ['1', '2'], { lines: 24, pages: 3 });
  assert.ok(a.lines.identical >= 0.95, JSON.stringify(a.lines));
  assert.ok(a.pages.lines > 12 && a.pages.linesIdentical >= 0.9, JSON.stringify(a.pages));
  assert.ok(a.pages.linesIdenticalIgnoringSpaces >= 0.92, JSON.stringify(a.pages));
  // Not worse than version 1 against the drawn text by more than half a point (lines) or a point (pages).
  assert.ok(a.lines.accuracy['2']!.cer <= a.lines.accuracy['1']!.cer + 0.005, JSON.stringify(a.lines.accuracy));
  assert.ok(a.pages.accuracy['2']!.cer <= a.pages.accuracy['1']!.cer + 0.01, JSON.stringify(a.pages.accuracy));
});

test('PP-OCR: the difference between versions is attributed per model (version 2 of ocr-cls alone changes no line)', async () => {
  const a = await compareOcrVersions(repo, ['1', { 'ocr-cls': '2' }], { lines: 0, pages: 1 });
  assert.ok(a.pages.lines > 4, JSON.stringify(a.pages));
  assert.equal(a.pages.linesIdentical, 1, JSON.stringify(a.pages));
  assert.deepEqual(Object.keys(a.pages.accuracy), ['1', 'ocr-cls@2']);
});
