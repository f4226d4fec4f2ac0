import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detSize, detTensor } from './det-input.js';
import { CLS_WIDTH, clsTensor, lineWidth, recTensor, REC_MAX_WIDTH } from './line-tensors.js';
import { HALF, normalizeBgr, ONE, ZERO } from './normalize.js';
import { resizeLinear } from './resize.js';
import { createImage, type RgbImage } from './rgb-image.js';

function grey(width: number, height: number, values: number[]): RgbImage {
  const img = createImage(width, height);
  values.forEach((v, i) => img.data.fill(v, i * 3, i * 3 + 3));
  return img;
}
const channel0 = (img: RgbImage) => Array.from({ length: img.width * img.height }, (_, i) => img.data[i * 3]!);

test('bilinear resize matches OpenCV INTER_LINEAR values', () => {
  // cv2.resize(np.array([[0, 255]], np.uint8), (4, 1)) == [[0, 64, 191, 255]]
  assert.deepEqual(channel0(resizeLinear(grey(2, 1, [0, 255]), 4, 1)), [0, 64, 191, 255]);
  // exact halving is a 2x2 average, rounded
  assert.deepEqual(channel0(resizeLinear(grey(2, 2, [0, 1, 2, 4]), 1, 1)), [2]);
  const flat = resizeLinear(grey(7, 5, new Array(35).fill(93)), 13, 3);
  assert.equal(flat.width, 13);
  assert.equal(flat.height, 3);
  assert.ok(flat.data.every((v) => v === 93));
});

test('normalisation writes B, G, R planes with their own statistics and zero padding', () => {
  const img = createImage(1, 1);
  img.data.set([255, 0, 51]); // R G B
  const half = normalizeBgr(img, HALF, HALF, 3);
  assert.deepEqual(
    Array.from(half).map((v) => Math.round(v * 1000) / 1000),
    [-0.6, 0, 0, -1, 0, 0, 1, 0, 0],
  );
  // the reference's scaling: exactly the float32 of x / 255
  assert.deepEqual(Array.from(normalizeBgr(img, ZERO, ONE)), [Math.fround(51 / 255), 0, 1]);
});

test('detector sizes: long side at most 960, sides rounded half-even to multiples of 32', () => {
  assert.deepEqual(detSize(1000, 500), { width: 960, height: 480 });
  assert.deepEqual(detSize(100, 50), { width: 96, height: 64 });
  assert.deepEqual(detSize(80, 112), { width: 64, height: 128 }); // 2.5 -> 2, 3.5 -> 4
  assert.deepEqual(detSize(10, 10), { width: 32, height: 32 });
  assert.deepEqual(detSize(640, 2000), { width: 320, height: 960 });
  const t = detTensor(grey(100, 50, new Array(5000).fill(128)));
  assert.deepEqual(t.shape, [1, 3, 64, 96]);
  assert.equal(t.data.length, 3 * 64 * 96);
  assert.ok(Array.from(t.data as Float32Array).every((v) => v === Math.fround(128 / 255)));
});

test("line inputs: height 48 with sharp's width, scaled to [0, 1]; very long lines squeezed", async () => {
  const line = grey(40, 20, new Array(800).fill(255));
  const rec = await recTensor(line);
  assert.deepEqual(rec.shape, [1, 3, 48, 96]);
  assert.ok(Array.from(rec.data as Float32Array).every((v) => v === 1));
  // sharp rounds the width: 47 * 48 / 20 = 112.8 -> 113 (PaddleOCR's ceil would give the same here)
  assert.deepEqual((await recTensor(grey(47, 20, new Array(940).fill(0)))).shape, [1, 3, 48, 113]);
  // a line already 48 high is used as it is
  assert.deepEqual((await recTensor(grey(7, 48, new Array(336).fill(9)))).shape, [1, 3, 48, 7]);
  assert.deepEqual((await recTensor(grey(2000, 10, new Array(20000).fill(0)))).shape, [1, 3, 48, REC_MAX_WIDTH]);
});

test('classifier input: bilinear to 48 high, at most 192 wide, [-1, 1], zero-padded to 192', () => {
  assert.equal(lineWidth(100, 48, CLS_WIDTH), 100);
  assert.equal(lineWidth(101, 48, CLS_WIDTH), 101);
  assert.equal(lineWidth(30, 60, CLS_WIDTH), 24);
  assert.equal(lineWidth(100000, 10, CLS_WIDTH), 192);
  assert.equal(lineWidth(1, 1000, CLS_WIDTH), 1);
  const cls = clsTensor(grey(40, 20, new Array(800).fill(255)));
  assert.deepEqual(cls.shape, [1, 3, 48, CLS_WIDTH]);
  assert.equal(cls.data[95], 1);
  assert.equal(cls.data[96], 0);
});
