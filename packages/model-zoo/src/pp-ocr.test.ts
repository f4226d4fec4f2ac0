import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { prepareRepository } from './prepare-repository.js';
import { runModel } from './test-session.js';

let repo: string;
before(async () => {
  repo = await mkdtemp(join(tmpdir(), 'tessera-zoo-ocr-'));
  await prepareRepository(repo, { only: 'demo' });
});
after(() => rm(repo, { recursive: true, force: true }));

const zeros = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);

test('ocr-det: the probability map has the (padded) input size, so crop scale 1 holds', async () => {
  const out = await runModel(repo, 'ocr-det', { x: zeros([2, 3, 64, 96]) });
  assert.deepEqual(out['sigmoid_0.tmp_0']!.dims, [2, 1, 64, 96]);
});

test('ocr-rec: time steps follow the crop rule max(1, ceil((W - 4) / 8)) for every width', async () => {
  for (const width of [1, 5, 12, 20, 21, 64, 100, 320]) {
    const out = await runModel(repo, 'ocr-rec', { x: zeros([1, 3, 48, width]) });
    assert.deepEqual(out['softmax_11.tmp_0']!.dims, [1, Math.max(1, Math.ceil((width - 4) / 8)), 6625], `width ${width}`);
  }
});

test('ocr-cls: two direction probabilities per 48x192 crop', async () => {
  const out = await runModel(repo, 'ocr-cls', { x: zeros([2, 3, 48, 192]) });
  assert.deepEqual(out['softmax_0.tmp_0']!.dims, [2, 2]);
  const p = Array.from(out['softmax_0.tmp_0']!.data as Float32Array);
  assert.ok(Math.abs(p[0]! + p[1]! - 1) < 1e-5);
});
