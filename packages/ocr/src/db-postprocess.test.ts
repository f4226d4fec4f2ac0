import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boxesFromMap, DB_DEFAULTS } from './db-postprocess.js';
import type { Quad } from './geometry.js';
import { sortBoxes } from './sort-boxes.js';

function probabilities(
  width: number,
  height: number,
  rects: Array<[x0: number, y0: number, x1: number, y1: number, p: number]>,
): Float32Array {
  const m = new Float32Array(width * height);
  for (const [x0, y0, x1, y1, p] of rects) for (let y = y0; y < y1; y++) m.fill(p, y * width + x0, y * width + x1);
  return m;
}

const map = probabilities(64, 48, [
  [5, 5, 31, 13, 0.9], // text
  [10, 25, 51, 35, 0.8], // text with a hole
  [20, 28, 24, 31, 0.1],
  [40, 5, 61, 13, 0.5], // above both pixel thresholds, below PaddleOCR's box threshold
  [60, 44, 62, 46, 0.9], // too small: dropped
  [3, 40, 20, 44, 0.02], // under the reference's pixel threshold (0.03)
]);

test('DB post-processing as the reference does it: every box over 0.03 kept, grown, scaled, clipped to the image', () => {
  // the map is half the image's size, so boxes come back doubled; contours come bottom to top
  const boxes = boxesFromMap(map, 64, 48, 128, 96);
  assert.deepEqual(boxes, [
    [
      [8, 38],
      [112, 38],
      [112, 80],
      [8, 80],
    ],
    [
      [72, 2],
      [128, 2],
      [128, 32],
      [72, 32],
    ], // clipped to [0, width], as the reference clips
    [
      [2, 2],
      [68, 2],
      [68, 32],
      [2, 32],
    ],
  ]);
  const sorted: Quad[] = sortBoxes(boxes);
  assert.deepEqual(
    sorted.map((b) => b[0]),
    [
      [2, 2],
      [72, 2],
      [8, 38],
    ],
  );
});

test("PaddleOCR's thresholds remain available as options", () => {
  const boxes = boxesFromMap(map, 64, 48, 128, 96, { ...DB_DEFAULTS, threshold: 0.3, boxThreshold: 0.6 });
  assert.deepEqual(boxes, [
    [
      [8, 38],
      [112, 38],
      [112, 80],
      [8, 80],
    ],
    [
      [2, 2],
      [68, 2],
      [68, 32],
      [2, 32],
    ],
  ]);
});

test('an empty map has no boxes; a box at the corner is clipped to the image', () => {
  assert.deepEqual(boxesFromMap(new Float32Array(32 * 32), 32, 32, 32, 32), []);
  assert.deepEqual(boxesFromMap(probabilities(40, 30, [[0, 0, 20, 12, 0.9]]), 40, 30, 40, 30), [
    [
      [0, 0],
      [24, 0],
      [24, 16],
      [0, 16],
    ],
  ]);
});

test('reading order: rows top to bottom, left to right within 10 pixels of height', () => {
  const at = (x: number, y: number): Quad => [
    [x, y],
    [x + 5, y],
    [x + 5, y + 5],
    [x, y + 5],
  ];
  const sorted = sortBoxes([at(50, 103), at(0, 100), at(30, 8), at(10, 0), at(80, 95), at(0, 40)]);
  assert.deepEqual(
    sorted.map((b) => b[0]),
    [
      [10, 0],
      [30, 8],
      [0, 40],
      [0, 100],
      [50, 103],
      [80, 95],
    ],
  );
});
