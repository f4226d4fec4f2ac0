import type { Quad } from './geometry.js';

/**
 * Reading order as PaddleOCR's sorted_boxes: by the top-left corner's y then x, then boxes
 * whose top-left corners are within 10 pixels vertically are taken as one line and put left
 * to right.
 */
export function sortBoxes(boxes: readonly Quad[]): Quad[] {
  const out = [...boxes].sort((a, b) => a[0][1] - b[0][1] || a[0][0] - b[0][0]);
  for (let i = 0; i < out.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = out[j]!;
      const b = out[j + 1]!;
      if (Math.abs(b[0][1] - a[0][1]) < 10 && b[0][0] < a[0][0]) {
        out[j] = b;
        out[j + 1] = a;
      } else {
        break;
      }
    }
  }
  return out;
}
