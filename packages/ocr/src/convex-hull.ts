import type { Point } from './geometry.js';

const sign = (v: number) => (v > 0 ? 1 : 0) - (v < 0 ? 1 : 0);
const same = (a: Point, b: Point) => a[0] === b[0] && a[1] === b[1];

/**
 * One chain of Sklansky's scan over points sorted by x then y, from sorted position `start`
 * towards `end`; returns the positions kept. `nsign` skips steps whose y moves that way,
 * `sign2` is the turn a kept corner must make.
 */
function sklansky(p: readonly Point[], start: number, end: number, nsign: number, turn: number): number[] {
  if (start === end || same(p[start]!, p[end]!)) return [start];
  const step = end > start ? 1 : -1;
  let prev = start;
  let cur = prev + step;
  let next = cur + step;
  const stack = [prev, cur, next];
  const stop = end + step;
  while (next !== stop) {
    const c = p[cur]!;
    const n = p[next]!;
    const by = n[1] - c[1];
    if (sign(by) === nsign) {
      next += step;
      stack[stack.length - 1] = next;
      continue;
    }
    const ax = c[0] - p[prev]![0];
    const ay = c[1] - p[prev]![1];
    const convexity = ay * (n[0] - c[0]) - ax * by;
    if (sign(convexity) === turn && (ax !== 0 || ay !== 0)) {
      prev = cur;
      cur = next;
      next += step;
      stack.push(next);
    } else if (prev === start) {
      cur = next;
      stack[1] = cur;
      next += step;
      stack[2] = next;
    } else {
      stack[stack.length - 2] = next;
      cur = prev;
      prev = stack[stack.length - 4]!;
      stack.pop();
    }
  }
  stack.pop();
  return stack;
}

/**
 * Rotates the hull (indices into the input) so that the indices ascend or descend, when they
 * can, as OpenCV does: the hull then starts where the contour's order says.
 */
function cyclicShift(hull: number[]): number[] {
  const n = hull.length;
  if (n < 3) return hull;
  let min = 0,
    max = 0,
    lt = 0;
  for (let i = 1; i < n; i++) {
    const idx = hull[i]!;
    if (hull[i - 1]! < idx) lt++;
    if (lt > 1 && lt <= i - 2) break;
    if (idx < hull[min]!) min = i;
    if (idx > hull[max]!) max = i;
  }
  const gap = Math.abs(max - min);
  if (!((gap === 1 || gap === n - 1) && (lt <= 1 || lt >= n - 2))) return hull;
  const ascending = (max + 1) % n === min;
  const first = ascending ? min : max;
  if (first === 0) return hull;
  const out: number[] = [];
  let j = first;
  for (let i = 0; i < n; i++) {
    const cur = hull[j]!;
    const nj = j + 1 < n ? j + 1 : 0;
    out.push(cur);
    if (i < n - 1 && ascending !== cur < hull[nj]!) return hull;
    j = nj;
  }
  return out;
}

/**
 * cv2.convexHull for integer points as OpenCV 4.6 (the version PaddleOCR pins) computes it: the
 * hull's vertices in the order and from the starting vertex it gives, since rotating calipers
 * break ties by that order. `clockwise` counts in OpenCV's y-up sense.
 */
export function convexHull(points: readonly Point[], clockwise: boolean): Point[] {
  const total = points.length;
  if (total === 0) return [];
  const order = points
    .map((_, i) => i)
    .sort((a, b) => points[a]![0] - points[b]![0] || points[a]![1] - points[b]![1] || a - b);
  const p = order.map((i) => points[i]!);
  let minY = 0,
    maxY = 0;
  for (let i = 1; i < total; i++) {
    if (p[minY]![1] > p[i]![1]) minY = i;
    if (p[maxY]![1] < p[i]![1]) maxY = i;
  }
  if (same(p[0]!, p[total - 1]!)) return [[...points[order[0]!]!]];
  const hull: number[] = [];
  let tl = sklansky(p, 0, maxY, -1, 1);
  let tr = sklansky(p, total - 1, maxY, -1, -1);
  if (!clockwise) [tl, tr] = [tr, tl];
  for (let i = 0; i < tl.length - 1; i++) hull.push(order[tl[i]!]!);
  for (let i = tr.length - 1; i > 0; i--) hull.push(order[tr[i]!]!);
  const stopAt = tr.length > 2 ? tr[1]! : tl.length > 2 ? tl[tl.length - 2]! : -1;
  let bl = sklansky(p, 0, minY, 1, -1);
  let br = sklansky(p, total - 1, minY, 1, 1);
  if (clockwise) [bl, br] = [br, bl];
  if (stopAt >= 0) {
    const check = bl.length > 2 ? bl[1]! : bl.length + br.length > 2 ? br[2 - bl.length]! : -1;
    if (check === stopAt || (check >= 0 && same(p[check]!, p[stopAt]!))) {
      // all points on one line: the lower part mirrors the upper one
      bl = bl.slice(0, 2);
      br = br.slice(0, 2);
    }
  }
  for (let i = 0; i < bl.length - 1; i++) hull.push(order[bl[i]!]!);
  for (let i = br.length - 1; i > 0; i--) hull.push(order[br[i]!]!);
  return cyclicShift(hull).map((i) => [...points[i]!] as Point);
}
