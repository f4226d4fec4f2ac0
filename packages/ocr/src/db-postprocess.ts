import { findContours } from './contours.js';
import { boxScore } from './box-score.js';
import { distance, orderClockwise, type Quad } from './geometry.js';
import { miniBox } from './min-area-rect.js';
import { roundHalfEven } from './rounding.js';
import { unclip } from './unclip.js';

/** PaddleOCR's DBPostProcess settings for PP-OCRv4 inference (det_db_* defaults). */
export interface DbOptions {
  /** Probability above which a pixel is text. */
  threshold: number;
  /** Mean probability inside a box below which the box is dropped. */
  boxThreshold: number;
  /** How far boxes are grown back out: area * ratio / perimeter. */
  unclipRatio: number;
  /** Contours looked at, at most. */
  maxCandidates: number;
  /** Boxes with a shorter side below this (map pixels) are noise. */
  minSize: number;
}

export const DB_DEFAULTS: Readonly<DbOptions> = { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, maxCandidates: 1000, minSize: 3 };

/**
 * Text boxes from a detection probability map (`mapWidth` x `mapHeight`), scaled to an image of
 * `width` x `height`: threshold, contours, minimum-area rectangles scored against the map,
 * grown by unclipping, rounded (half to even, as numpy) and clipped to the image.
 */
export function boxesFromMap(prob: Float32Array, mapWidth: number, mapHeight: number, width: number, height: number, options: DbOptions = DB_DEFAULTS): Quad[] {
  const mask = new Uint8Array(mapWidth * mapHeight);
  for (let i = 0; i < mask.length; i++) mask[i] = prob[i]! > options.threshold ? 1 : 0;
  const contours = findContours(mask, mapWidth, mapHeight);
  const boxes: Quad[] = [];
  for (const contour of contours.slice(0, options.maxCandidates)) {
    const first = miniBox(contour);
    if (first.shortSide < options.minSize) continue;
    if (options.boxThreshold > boxScore(prob, mapWidth, mapHeight, first.box)) continue;
    const grown = unclip(first.box, options.unclipRatio);
    if (grown.length === 0) continue;
    const { box, shortSide } = miniBox(grown);
    if (shortSide < options.minSize + 2) continue;
    // numpy works on the float32 corners in float32 here
    const scale = (v: number, from: number, to: number) => Math.min(Math.max(roundHalfEven(Math.fround(Math.fround(v / from) * to)), 0), to);
    boxes.push(box.map(([x, y]) => [scale(x, mapWidth, width), scale(y, mapHeight, height)]) as Quad);
  }
  return boxes;
}

/**
 * PaddleOCR's filter_tag_det_res: corners ordered clockwise from top-left, clipped inside the
 * image, boxes no more than 3 pixels wide or high dropped.
 */
export function filterBoxes(boxes: readonly Quad[], width: number, height: number): Quad[] {
  const kept: Quad[] = [];
  for (const raw of boxes) {
    const box = orderClockwise(raw).map(([x, y]) => [
      Math.trunc(Math.min(Math.max(x, 0), width - 1)),
      Math.trunc(Math.min(Math.max(y, 0), height - 1)),
    ]) as Quad;
    if (Math.trunc(distance(box[0], box[1])) <= 3 || Math.trunc(distance(box[0], box[3])) <= 3) continue;
    kept.push(box);
  }
  return kept;
}
