import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ppOcrSource, REC_IDS, REC_SCORES } from './models/pp-ocr.js';
import { prepareRepository } from './prepare-repository.js';
import { seededRandom } from './seeded-random.js';
import { runModel } from './test-session.js';

let repo: string;
before(async () => {
  repo = await mkdtemp(join(tmpdir(), 'tessera-zoo-ocr-'));
  await prepareRepository(repo, { only: 'demo' });
});
after(() => rm(repo, { recursive: true, force: true }));

const zeros = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);

test("ocr-det: the probability map has the input's size", async () => {
  const out = await runModel(repo, 'ocr-det', { x: zeros([2, 3, 64, 96]) });
  assert.deepEqual(out['sigmoid_0.tmp_0']!.dims, [2, 1, 64, 96]);
});

test('ocr-rec: one step per 8 pixels of width, max(1, ceil((W - 4) / 8)), for every width', async () => {
  for (const width of [1, 5, 12, 20, 21, 64, 100, 320]) {
    const out = await runModel(repo, 'ocr-rec', { x: zeros([1, 3, 48, width]) });
    const steps = Math.max(1, Math.ceil((width - 4) / 8));
    assert.deepEqual(out[REC_IDS]!.dims, [1, steps], `width ${width}`);
    assert.deepEqual(out[REC_SCORES]!.dims, [1, steps], `width ${width}`);
  }
});

// 5x7 bitmaps of the digits, drawn 4x as dark strokes on light paper, so the recogniser reads real characters.
const DIGITS = [
  '01110100011001110101110011000101110',
  '00100011000010000100001000010001110',
  '01110100010000100010001000100011111',
  '11111000100010000010000011000101110',
  '00010001100101010010111110001000010',
  '11111100001111000001000011000101110',
  '00110010001000011110100011000101110',
  '11111000010001000100010000100001000',
  '01110100011000101110100011000101110',
  '01110100011000101111000010001001100',
];

/** Two lines of `width`: one of noise, one of drawn digits on light paper; values in [0, 1]. */
function lines(width: number, seed: number): ort.Tensor {
  const rand = seededRandom(seed);
  const plane = 48 * width;
  const data = new Float32Array(2 * 3 * plane);
  for (let i = 0; i < 3 * plane; i++) data[i] = rand();
  const paper = data.subarray(3 * plane).fill(0.92);
  for (let x0 = 6; x0 + 20 <= width - 4; x0 += 24 + Math.floor(rand() * 8)) {
    const bits = DIGITS[Math.floor(rand() * 10)]!;
    for (let i = 0; i < 35; i++) {
      if (bits[i] !== '1') continue;
      const x = x0 + (i % 5) * 4;
      const y = 10 + Math.floor(i / 5) * 4;
      for (let c = 0; c < 3; c++)
        for (let dy = 0; dy < 4; dy++)
          paper.fill(0.08, c * plane + (y + dy) * width + x, c * plane + (y + dy) * width + x + 4);
    }
  }
  return new ort.Tensor('float32', data, [2, 3, 48, width]);
}

test("ocr-rec: the served ids and scores are the argmax and max of the original model's probabilities", async () => {
  const src = ppOcrSource();
  const original = await ort.InferenceSession.create(readFileSync(join(src.assets, 'ch_PP-OCRv4_rec_infer.onnx')), {
    executionProviders: ['cpu'],
    logSeverityLevel: 4,
  });
  try {
    assert.deepEqual(original.outputNames, ['softmax_11.tmp_0']);
    let steps = 0;
    const seen = new Set<number>();
    for (const [width, seed] of [
      [320, 1],
      [203, 2],
      [16, 3],
    ] as const) {
      const x = lines(width, seed);
      const probs = (await original.run({ x }))['softmax_11.tmp_0']!;
      const served = await runModel(repo, 'ocr-rec', { x });
      assert.deepEqual(Object.keys(served).sort(), [REC_IDS, REC_SCORES]);
      const [n, t, classes] = probs.dims as [number, number, number];
      assert.deepEqual(served[REC_IDS]!.dims, [n, t]);
      assert.equal(served[REC_IDS]!.type, 'int64');
      assert.equal(served[REC_SCORES]!.type, 'float32');
      const p = probs.data as Float32Array;
      const ids = served[REC_IDS]!.data as BigInt64Array;
      const scores = served[REC_SCORES]!.data as Float32Array;
      for (let row = 0; row < n * t; row++) {
        const slice = p.subarray(row * classes, (row + 1) * classes);
        const max = slice.reduce((a, b) => Math.max(a, b), -Infinity);
        assert.equal(Number(ids[row]), slice.indexOf(max), `step ${row} of width ${width}`);
        assert.equal(scores[row], max, `step ${row} of width ${width}`);
        seen.add(Number(ids[row]));
        steps++;
      }
    }
    assert.ok(steps > 100 && seen.size > 8, `${steps} steps compared, ${seen.size} distinct classes`);
  } finally {
    await original.release();
  }
});

test('ocr-cls: two direction probabilities per 48x192 crop', async () => {
  const out = await runModel(repo, 'ocr-cls', { x: zeros([2, 3, 48, 192]) });
  assert.deepEqual(out['softmax_0.tmp_0']!.dims, [2, 2]);
  const p = Array.from(out['softmax_0.tmp_0']!.data as Float32Array);
  assert.ok(Math.abs(p[0]! + p[1]! - 1) < 1e-5);
});
