import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { seededRandom } from '@tessera/model-zoo';
import { boxesFromMap } from './db-postprocess.js';
import type { Point, Quad } from './geometry.js';
import { cropQuad, getPerspectiveTransform, rotateTall, warpPerspective } from './perspective-crop.js';
import { resizeToHeight } from './resize-smooth.js';
import type { RgbImage } from './rgb-image.js';
import { loadReferenceParts, type ReferenceParts, type RgbaImage } from './testing/reference-parts.js';

// Each step between the detector's map and the recogniser's input, against the code
// @gutenye/ocr runs for it (its own DB post-processing with opencv.js 4.9 and js-clipper, its
// sharp resize), on random input: every box, crop and pixel must be the same.

let ref: ReferenceParts;
before(async () => {
  ref = await loadReferenceParts();
});

type Random = () => number;

function noise(rand: Random, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
  return { width, height, data };
}

function rgba(img: RgbImage): RgbaImage {
  const data = new Uint8Array(img.width * img.height * 4);
  for (let i = 0; i < img.width * img.height; i++) {
    data.set(img.data.subarray(i * 3, i * 3 + 3), i * 4);
    data[i * 4 + 3] = 255;
  }
  return { width: img.width, height: img.height, data };
}

function sameRgb(ours: RgbImage, theirs: RgbaImage): boolean {
  if (ours.width !== theirs.width || ours.height !== theirs.height) return false;
  for (let i = 0; i < ours.width * ours.height; i++) {
    for (let c = 0; c < 3; c++) if (ours.data[i * 3 + c] !== theirs.data[i * 4 + c]) return false;
  }
  return true;
}

/** A detector-like map: rotated bars of text probability, a few faint specks, the rest near 0. */
function probabilityMap(rand: Random, width: number, height: number): Float32Array {
  const map = new Float32Array(width * height);
  for (let i = 0; i < map.length; i++) map[i] = rand() * 0.02;
  const bars = 2 + Math.floor(rand() * 6);
  for (let b = 0; b < bars; b++) {
    const cx = rand() * width;
    const cy = rand() * height;
    const len = 4 + rand() * width * 0.6;
    const thick = 2 + rand() * 14;
    const angle = rand() < 0.5 ? 0 : (rand() - 0.5) * 0.6;
    const p = 0.02 + rand() * 0.98;
    const [c, s] = [Math.cos(angle), Math.sin(angle)];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const u = (x - cx) * c + (y - cy) * s;
        const v = -(x - cx) * s + (y - cy) * c;
        if (Math.abs(u) < len / 2 && Math.abs(v) < thick / 2) map[y * width + x] = Math.max(map[y * width + x]!, p);
      }
    }
  }
  return map;
}

test('DB post-processing and crops: the same boxes, in the same order, with the same pixels', async () => {
  const rand = seededRandom(7);
  let boxes = 0;
  for (let trial = 0; trial < 40; trial++) {
    const [width, height] = [96 + 32 * Math.floor(rand() * 4), 64 + 32 * Math.floor(rand() * 3)];
    const map = probabilityMap(rand, width, height);
    const page = noise(rand, width, height);
    const mask = new Uint8Array(width * height * 4);
    for (let i = 0; i < map.length; i++) {
      mask.fill(map[i]! > 0.03 ? 255 : 0, i * 4, i * 4 + 3);
      mask[i * 4 + 3] = 255;
    }
    const theirs = await ref.splitIntoLineImages({ width, height, data: mask }, rgba(page));
    const ours = boxesFromMap(map, width, height, width, height);
    assert.deepEqual(
      ours,
      theirs.map((t) => t.box),
      `trial ${trial}`,
    );
    ours.forEach((box, i) =>
      assert.ok(sameRgb(cropQuad(page, box), theirs[i]!.image), `trial ${trial}, crop ${i} of ${JSON.stringify(box)}`),
    );
    boxes += ours.length;
  }
  assert.ok(boxes > 100, `only ${boxes} boxes compared`);
});

test('perspective crops of skewed quadrilaterals, and quarter turns, pixel for pixel', () => {
  const { cv } = ref;
  const rand = seededRandom(11);
  const page = noise(rand, 90, 70);
  const src = cv.matFromImageData(rgba(page));
  try {
    for (let trial = 0; trial < 60; trial++) {
      const corners: Point[] = [
        [rand() * 30 - 5, rand() * 20 - 5],
        [40 + rand() * 50, rand() * 20],
        [40 + rand() * 50, 40 + rand() * 35],
        [rand() * 30, 40 + rand() * 30],
      ];
      const box = (trial % 2 ? corners.map(([x, y]) => [Math.round(x), Math.round(y)]) : corners) as Quad;
      const norm = (p: Point, q: Point) => Math.sqrt((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2);
      const w = Math.trunc(Math.max(norm(box[0], box[1]), norm(box[2], box[3])));
      const h = Math.trunc(Math.max(norm(box[0], box[3]), norm(box[1], box[2])));
      const target: Point[] = [
        [0, 0],
        [w, 0],
        [w, h],
        [0, h],
      ];
      const m = cv.getPerspectiveTransform(
        cv.matFromArray(4, 1, cv.CV_32FC2, box.flat()),
        cv.matFromArray(4, 1, cv.CV_32FC2, target.flat()),
      );
      const ours = getPerspectiveTransform(box, target);
      assert.deepEqual(ours, Array.from(m.data64F), `matrix of ${JSON.stringify(box)}`);
      const dst = new cv.Mat();
      cv.warpPerspective(src, dst, m, new cv.Size(w, h), cv.INTER_CUBIC, cv.BORDER_REPLICATE, new cv.Scalar());
      const crop = warpPerspective(page, ours, w, h);
      assert.ok(sameRgb(crop, { width: dst.cols, height: dst.rows, data: dst.data }), `crop of ${JSON.stringify(box)}`);
      const turned = new cv.Mat();
      const rotation = cv.getRotationMatrix2D(new cv.Point(dst.cols / 2, dst.cols / 2), 90, 1);
      cv.warpAffine(
        dst,
        turned,
        rotation,
        new cv.Size(dst.rows, dst.cols),
        cv.INTER_CUBIC,
        cv.BORDER_REPLICATE,
        new cv.Scalar(),
      );
      assert.ok(
        sameRgb(rotateTall(crop), { width: turned.cols, height: turned.rows, data: turned.data }),
        `turn of ${w}x${h}`,
      );
      for (const mat of [m, dst, turned, rotation]) mat.delete();
    }
  } finally {
    src.delete();
  }
});

test('line images scaled to height 48 as the reference scales them', async () => {
  const rand = seededRandom(13);
  for (const [w, h] of [
    [300, 40],
    [47, 20],
    [120, 61],
    [9, 100],
    [640, 48],
    [33, 17],
  ] as const) {
    const line = noise(rand, w, h);
    const ours = await resizeToHeight(line, 48, 3200);
    assert.ok(sameRgb(ours, await ref.resizeToHeight(rgba(line), 48)), `${w}x${h}`);
  }
});
