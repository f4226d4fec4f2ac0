import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cropQuad, getPerspectiveTransform, rotateTall } from './perspective-crop.js';
import { createImage, rotate180, type RgbImage } from './rgb-image.js';

function numbered(width: number, height: number): RgbImage {
  const img = createImage(width, height);
  for (let i = 0; i < width * height; i++) img.data.fill(i % 256, i * 3, i * 3 + 3);
  return img;
}
const values = (img: RgbImage) => Array.from({ length: img.width * img.height }, (_, i) => img.data[i * 3]!);

test('the homography takes each corner to its target', () => {
  const from: [number, number][] = [
    [3, 2],
    [40, 7],
    [38, 30],
    [1, 25],
  ];
  const to: [number, number][] = [
    [0, 0],
    [37, 0],
    [37, 23],
    [0, 23],
  ];
  const m = getPerspectiveTransform(from, to);
  from.forEach(([x, y], i) => {
    const w = m[6]! * x + m[7]! * y + m[8]!;
    assert.ok(Math.abs((m[0]! * x + m[1]! * y + m[2]!) / w - to[i]![0]) < 1e-9);
    assert.ok(Math.abs((m[3]! * x + m[4]! * y + m[5]!) / w - to[i]![1]) < 1e-9);
  });
});

test('an upright box crops exactly its pixels', () => {
  const img = numbered(10, 6);
  const crop = cropQuad(img, [
    [2, 1],
    [7, 1],
    [7, 4],
    [2, 4],
  ]);
  assert.deepEqual([crop.width, crop.height], [5, 3]);
  assert.deepEqual(values(crop), [12, 13, 14, 15, 16, 22, 23, 24, 25, 26, 32, 33, 34, 35, 36]);
});

test('a box at least 1.5 times taller than wide is turned to lie flat', () => {
  const crop = cropQuad(numbered(10, 12), [
    [1, 1],
    [4, 1],
    [4, 10],
    [1, 10],
  ]);
  assert.deepEqual([crop.width, crop.height], [9, 3]);
});

test('quarter turn as the reference makes it (one pixel off rot90), and half turn', () => {
  const img = numbered(3, 2); // 0 1 2 / 3 4 5
  assert.deepEqual(values(rotate180(img)), [5, 4, 3, 2, 1, 0]);
  const q = rotateTall(img); // rot90 would be 2 5 / 1 4 / 0 3
  assert.deepEqual([q.width, q.height], [2, 3]);
  assert.deepEqual(values(q), [2, 5, 2, 5, 1, 4]);
});
