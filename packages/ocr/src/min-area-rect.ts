import { convexHull } from './convex-hull.js';
import type { Point, Quad } from './geometry.js';

// OpenCV computes minimum-area rectangles in single precision, and PaddleOCR truncates the
// corners it gets (128.99998 becomes 128), so the arithmetic is reproduced step by step in
// float32: f() rounds every intermediate result as a C++ float expression would.
const f = Math.fround;

export interface RotatedRect {
  center: Point;
  width: number;
  height: number;
  /** Degrees. */
  angle: number;
}

/** Whether `u` points clockwise of `v`. */
const isRightOf = (u: Point, v: Point) => f(f(u[1] * v[0]) + f(-u[0] * v[1])) < 0;

/** Rotating calipers over hull vertices: corner, width vector and height vector (float32). */
function calipers(pts: readonly Point[]): { corner: Point; v1: Point; v2: Point } {
  const n = pts.length;
  const vx: number[] = [];
  const vy: number[] = [];
  const inv: number[] = [];
  let left = 0,
    right = 0,
    top = 0,
    bottom = 0;
  let [leftX, topY] = pts[0]!;
  let rightX = leftX,
    bottomY = topY;
  for (let i = 0; i < n; i++) {
    const [x, y] = pts[i]!;
    if (x < leftX) [leftX, left] = [x, i];
    if (x > rightX) [rightX, right] = [x, i];
    if (y > topY) [topY, top] = [y, i];
    if (y < bottomY) [bottomY, bottom] = [y, i];
    const q = pts[(i + 1) % n]!;
    const dx = f(q[0] - x);
    const dy = f(q[1] - y);
    vx.push(dx);
    vy.push(dy);
    inv.push(f(1 / Math.sqrt(dx * dx + dy * dy)));
  }
  let orientation = 0;
  for (let i = 0, ax = vx[n - 1]!, ay = vy[n - 1]!; i < n; i++) {
    const c = ax * vy[i]! - ay * vx[i]!;
    if (c !== 0) {
      orientation = c > 0 ? 1 : -1;
      break;
    }
    [ax, ay] = [vx[i]!, vy[i]!];
  }
  if (orientation === 0) throw new RangeError('degenerate hull');
  let a: number;
  let b: number;
  const seq = [bottom, right, top, left];
  let best = { area: 3.4028234663852886e38, left: 0, bottom: 0, a: 0, b: 0, width: 0, height: 0 };
  for (let k = 0; k < n; k++) {
    // Each caliper's next edge, turned into the first caliper's frame; the edge turned least
    // (the one furthest clockwise) moves next.
    const turned: Point[] = [
      [vx[seq[0]!]!, vy[seq[0]!]!],
      [vy[seq[1]!]!, -vx[seq[1]!]!],
      [-vx[seq[2]!]!, -vy[seq[2]!]!],
      [-vy[seq[3]!]!, vx[seq[3]!]!],
    ];
    let main = 0;
    for (let e = 1; e < 4; e++) if (isRightOf(turned[e]!, turned[main]!)) main = e;
    const p = seq[main]!;
    const lx = f(vx[p]! * inv[p]!);
    const ly = f(vy[p]! * inv[p]!);
    [a, b] = main === 0 ? [lx, ly] : main === 1 ? [ly, -lx] : main === 2 ? [-lx, -ly] : [-ly, lx];
    seq[main] = (seq[main]! + 1) % n;
    const wx = f(pts[seq[1]!]![0] - pts[seq[3]!]![0]);
    const wy = f(pts[seq[1]!]![1] - pts[seq[3]!]![1]);
    const width = f(f(wx * a) + f(wy * b));
    const hx = f(pts[seq[2]!]![0] - pts[seq[0]!]![0]);
    const hy = f(pts[seq[2]!]![1] - pts[seq[0]!]![1]);
    const height = f(f(-hx * b) + f(hy * a));
    const area = f(width * height);
    if (area <= best.area) best = { area, left: seq[3]!, bottom: seq[0]!, a, b, width, height };
  }
  const [a1, b1, a2, b2] = [best.a, best.b, -best.b, best.a];
  const l = pts[best.left]!;
  const bt = pts[best.bottom]!;
  const c1 = f(f(a1 * l[0]) + f(l[1] * b1));
  const c2 = f(f(a2 * bt[0]) + f(bt[1] * b2));
  const idet = f(1 / f(f(a1 * b2) - f(a2 * b1)));
  const corner: Point = [f(f(f(c1 * b2) - f(c2 * b1)) * idet), f(f(f(a1 * c2) - f(a2 * c1)) * idet)];
  return { corner, v1: [f(a1 * best.width), f(b1 * best.width)], v2: [f(a2 * best.height), f(b2 * best.height)] };
}

/** cv2.minAreaRect on integer points, as OpenCV 4.6 computes it. */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points, false);
  let rect: RotatedRect = { center: [0, 0], width: 0, height: 0, angle: 0 };
  if (hull.length > 2) {
    const { corner, v1, v2 } = calipers(hull);
    rect = {
      center: [f(corner[0] + f(f(v1[0] + v2[0]) * 0.5)), f(corner[1] + f(f(v1[1] + v2[1]) * 0.5))],
      width: f(Math.sqrt(v1[0] * v1[0] + v1[1] * v1[1])),
      height: f(Math.sqrt(v2[0] * v2[0] + v2[1] * v2[1])),
      angle: f(Math.atan2(v1[1], v1[0])),
    };
  } else if (hull.length === 2) {
    const [p, q] = hull as [Point, Point];
    const dx = q[0] - p[0];
    const dy = q[1] - p[1];
    rect = {
      center: [f(f(p[0] + q[0]) * 0.5), f(f(p[1] + q[1]) * 0.5)],
      width: f(Math.sqrt(dx * dx + dy * dy)),
      height: 0,
      angle: f(Math.atan2(dy, dx)),
    };
  } else if (hull.length === 1) {
    rect.center = [...hull[0]!];
  }
  return { ...rect, angle: f(f(rect.angle * 180) / Math.PI) };
}

/**
 * The rectangle's corners as @gutenye/ocr computes them: its own boxPoints, in double
 * precision from the float32 rectangle, where PaddleOCR calls cv2.boxPoints (float32). The
 * corners feed the unclip offset unrounded, so the last bits matter.
 */
export function rectCorners(r: RotatedRect): Quad {
  const theta = (r.angle * Math.PI) / 180.0;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const [cx, cy] = r.center;
  const dx = r.width * 0.5;
  const dy = r.height * 0.5;
  return [
    [cx - dx * cos + dy * sin, cy - dx * sin - dy * cos],
    [cx + dx * cos + dy * sin, cy + dx * sin - dy * cos],
    [cx + dx * cos - dy * sin, cy + dx * sin + dy * cos],
    [cx - dx * cos - dy * sin, cy - dx * sin + dy * cos],
  ];
}

/**
 * get_mini_boxes as PaddleOCR and @gutenye/ocr write it: the minimum-area rectangle's corners
 * as top-left, top-right, bottom-right, bottom-left (left pair and right pair by x, each split
 * by y), and its short side. The corners are the reference's (see rectCorners).
 */
export function miniBox(points: readonly Point[]): { box: Quad; shortSide: number } {
  const rect = minAreaRect(points);
  const p = [...rectCorners(rect)].sort((m, n) => m[0] - n[0]); // stable, as Python's sorted and Array.prototype.sort
  const [tl, bl] = p[1]![1] > p[0]![1] ? [p[0]!, p[1]!] : [p[1]!, p[0]!];
  const [tr, br] = p[3]![1] > p[2]![1] ? [p[2]!, p[3]!] : [p[3]!, p[2]!];
  return { box: [tl, tr, br, bl], shortSide: Math.min(rect.width, rect.height) };
}
