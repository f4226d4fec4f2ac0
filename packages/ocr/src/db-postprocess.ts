import { boxScore } from './box-score.js';
import { findContours } from './contours.js';
import type { Point, Quad } from './geometry.js';
import { miniBox } from './min-area-rect.js';
import { unclip } from './unclip.js';

/** DB post-processing settings. */
export interface DbOptions {
  /** Probability above which a pixel is text. */
  threshold: number;
  /** Mean probability inside a box below which the box is dropped; 0 keeps every box. */
  boxThreshold: number;
  /** How far boxes are grown back out: area * ratio / perimeter. */
  unclipRatio: number;
  /** Contours looked at, at most. */
  maxCandidates: number;
  /** Boxes with a shorter side below this (map pixels) are noise. */
  minSize: number;
}

/**
 * The settings @gutenye/ocr runs with. PaddleOCR's PP-OCRv4 defaults are threshold 0.3 and
 * box threshold 0.6; the reference marks every pixel above 0.03 as text and keeps every box,
 * which gives larger boxes (the crops keep more of the paper around the text) and lets faint
 * marks through to recognition, where a mean score under 0.5 drops them. Matching the
 * reference's crops is what makes its text come out; see docs/models.md. Unclip ratio 1.5 and
 * minimum size 3 are the same in both; the reference reads every contour, PaddleOCR at most
 * 1000, which is kept here as a bound on the work one page can cause.
 */
export const DB_DEFAULTS: Readonly<DbOptions> = {
  threshold: 0.03,
  boxThreshold: 0,
  unclipRatio: 1.5,
  maxCandidates: 1000,
  minSize: 3,
};

const norm = (p: Point, q: Point) => Math.sqrt((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2);

/**
 * @gutenye/ocr's last step on a box (its orderPointsClockwise and the rounding after it): the
 * corners picked as top-left (smallest x + y), bottom-right (largest), and of the other two the
 * one with the smaller coordinate difference as top-right, are rounded half up and clipped to
 * [0, width] x [0, height] in place. The box keeps its own corner order. As in the reference,
 * the top-right / bottom-left pick compares x and y differences between the two remaining
 * corners rather than each corner's y - x (PaddleOCR's order_points_clockwise); when the two
 * differences are equal, the same corner is picked twice and the other one is left unrounded.
 * Returns the rounded corners' (width, height) measured from the top-left one.
 */
function roundCorners(box: Quad, width: number, height: number): { w: number; h: number } {
  const sums = box.map(([x, y]) => x + y);
  const first = box[sums.indexOf(Math.min(...sums))]!;
  const third = box[sums.indexOf(Math.max(...sums))]!;
  const rest = box.filter((p) => p !== first && p !== third);
  const diff = [rest[1]![0] - rest[0]![0], rest[1]![1] - rest[0]![1]];
  const second = rest[diff.indexOf(Math.min(...diff))]!;
  const fourth = rest[diff.indexOf(Math.max(...diff))]!;
  for (const p of [first, second, third, fourth]) {
    p[0] = Math.max(0, Math.min(Math.round(p[0]), width));
    p[1] = Math.max(0, Math.min(Math.round(p[1]), height));
  }
  return { w: Math.trunc(norm(first, second)), h: Math.trunc(norm(first, fourth)) };
}

/**
 * Text boxes from a detection probability map (`mapWidth` x `mapHeight`), in the pixels of an
 * image of `width` x `height`, as @gutenye/ocr finds them: threshold, contours (OpenCV's
 * order), minimum-area rectangles, grown by unclipping, fitted again, scaled, rounded and
 * clipped; boxes no more than 3 pixels wide or high are dropped. Corners run top-left,
 * top-right, bottom-right, bottom-left (get_mini_boxes' order).
 */
export function boxesFromMap(
  prob: Float32Array,
  mapWidth: number,
  mapHeight: number,
  width: number,
  height: number,
  options: DbOptions = DB_DEFAULTS,
): Quad[] {
  const mask = new Uint8Array(mapWidth * mapHeight);
  for (let i = 0; i < mask.length; i++) mask[i] = prob[i]! > options.threshold ? 1 : 0;
  const contours = findContours(mask, mapWidth, mapHeight);
  const rx = width / mapWidth;
  const ry = height / mapHeight;
  const boxes: Quad[] = [];
  for (const contour of contours.slice(0, options.maxCandidates)) {
    const first = miniBox(contour);
    if (first.shortSide < options.minSize) continue;
    if (options.boxThreshold > 0 && options.boxThreshold > boxScore(prob, mapWidth, mapHeight, first.box)) continue;
    const grown = unclip(first.box, options.unclipRatio);
    if (grown.length === 0) continue;
    const { box, shortSide } = miniBox(grown);
    if (shortSide < options.minSize + 2) continue;
    for (const p of box) {
      p[0] *= rx;
      p[1] *= ry;
    }
    const { w, h } = roundCorners(box, width, height);
    if (w <= 3 || h <= 3) continue;
    boxes.push(box);
  }
  return boxes;
}
