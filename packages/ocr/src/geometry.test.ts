import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findContours } from './contours.js';
import { fillPolygon } from './fill-polygon.js';
import { minAreaRect, miniBox, rectCorners } from './min-area-rect.js';
import { cleanPolygon, offsetRound, unclip } from './unclip.js';

// Expected values are what OpenCV (4.6 and opencv.js 4.9 agree) and js-clipper 1.0.1 return for
// the same input; reference-parity.test.ts checks the same on many random inputs.

function map(
  width: number,
  height: number,
  rects: Array<[x0: number, y0: number, x1: number, y1: number]>,
): Uint8Array {
  const m = new Uint8Array(width * height);
  for (const [x0, y0, x1, y1] of rects) for (let y = y0; y < y1; y++) m.fill(1, y * width + x0, y * width + x1);
  return m;
}

test('contours: outer and hole borders, compressed, in OpenCV order', () => {
  const m = map(64, 48, [
    [5, 5, 31, 13],
    [10, 25, 51, 35],
    [60, 44, 62, 46],
  ]);
  for (let y = 28; y < 31; y++) m.fill(0, y * 64 + 20, y * 64 + 24); // a hole
  assert.deepEqual(findContours(m, 64, 48), [
    [
      [60, 44],
      [60, 45],
      [61, 45],
      [61, 44],
    ],
    [
      [19, 28],
      [20, 27],
      [23, 27],
      [24, 28],
      [24, 30],
      [23, 31],
      [20, 31],
      [19, 30],
    ],
    [
      [10, 25],
      [10, 34],
      [50, 34],
      [50, 25],
    ],
    [
      [5, 5],
      [5, 12],
      [30, 12],
      [30, 5],
    ],
  ]);
  assert.deepEqual(findContours(map(3, 3, [[1, 1, 2, 2]]), 3, 3), [[[1, 1]]]);
  // borders touching the map's edge still close
  assert.deepEqual(findContours(map(4, 2, [[0, 0, 4, 2]]), 4, 2), [
    [
      [0, 0],
      [0, 1],
      [3, 1],
      [3, 0],
    ],
  ]);
});

test('minimum-area rectangles reproduce OpenCV float32 results', () => {
  const r = minAreaRect([
    [2, 2],
    [20, 5],
    [18, 11],
    [1, 8],
  ]);
  assert.deepEqual(
    [r.center, r.width, r.height, r.angle],
    [[10.486486434936523, 6.581081390380859], 18.248287200927734, 6.247161388397217, 9.462321281433105],
  );
  // corners in double precision from the float32 rectangle, as @gutenye/ocr computes them
  assert.deepEqual(rectCorners(r), [
    [2.000000056074188, 2.000000542323269],
    [19.999999719929452, 5.000000187115484],
    [18.972972813798858, 11.16216223843845],
    [0.9729731499435958, 8.162162593646235],
  ]);
});

test('mini boxes run top-left, top-right, bottom-right, bottom-left', () => {
  const { box, shortSide } = miniBox([
    [0, 0],
    [10, 0],
    [10, 4],
    [0, 4],
    [5, 2],
  ]);
  assert.deepEqual(
    box.map(([x, y]) => [Math.round(x) + 0, Math.round(y) + 0]),
    [
      [0, 0],
      [10, 0],
      [10, 4],
      [0, 4],
    ],
  );
  assert.equal(shortSide, 4);
});

test('unclip grows a box as js-clipper does, point for point', () => {
  // 10x10 square, ratio 1.5: distance 100 * 1.5 / 40 = 3.75
  assert.deepEqual(
    unclip(
      [
        [0, 0],
        [10, 0],
        [10, 10],
        [0, 10],
      ],
      1.5,
    ),
    [
      [13, -3],
      [14, 0],
      [14, 10],
      [13, 13],
      [10, 14],
      [0, 14],
      [-3, 13],
      [-4, 10],
      [-4, 0],
      [-3, -3],
      [0, -4],
      [10, -4],
    ],
  );
  // corners are offset as they are, not truncated first (pyclipper would start from 0,0 .. 10,4)
  assert.deepEqual(
    unclip(
      [
        [0.5, 0.25],
        [10.5, 0.25],
        [10.5, 4.25],
        [0.5, 4.25],
      ],
      1.5,
    ),
    [
      [13, 0],
      [13, 4],
      [12, 6],
      [1, 6],
      [-1, 5],
      [-2, 4],
      [-2, 0],
      [-1, -2],
      [11, -2],
    ],
  );
  // either orientation of the input grows outwards
  const reversed = offsetRound(
    [
      [0, 10],
      [10, 10],
      [10, 0],
      [0, 0],
    ],
    3.75,
  );
  assert.deepEqual(cleanPolygon(reversed).length, 12);
  // repeats and points in line go; the sequence starts after the top edge's last vertex
  assert.deepEqual(
    cleanPolygon([
      [0, 0],
      [5, 0],
      [10, 0],
      [10, 10],
      [10, 10],
      [0, 10],
    ]),
    [
      [10, 10],
      [0, 10],
      [0, 0],
      [10, 0],
    ],
  );
});

test('polygon fill marks the pixels cv2.fillPoly marks', () => {
  const expected = [
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 1, 1, 1, 1, 0, 0, 0, 0, 0],
    [0, 1, 1, 1, 1, 1, 1, 1, 1, 0],
    [0, 0, 1, 1, 1, 1, 1, 1, 0, 0],
    [0, 0, 1, 1, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 1, 1, 1, 0, 0, 0, 0],
    [0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
  ];
  assert.deepEqual(
    Array.from(
      fillPolygon(
        [
          [1, 1],
          [8, 2],
          [4, 7],
        ],
        10,
        8,
      ),
    ),
    expected.flat(),
  );
  // corners outside the mask are clipped, not wrapped
  const clipped = fillPolygon(
    [
      [-5, -5],
      [20, -5],
      [20, 2],
      [-5, 2],
    ],
    10,
    8,
  );
  assert.equal(
    clipped.reduce((a, b) => a + b, 0),
    30,
  );
});
