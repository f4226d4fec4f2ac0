import type { Point } from './geometry.js';

// cv2.fillPoly with 8-connected lines and no sub-pixel shift, as OpenCV 4.6 rasterises it:
// the outline drawn with Bresenham lines (clipped to the image first), then every scanline
// filled between its edge crossings, with x in 16.16 fixed point (ceil on the left, floor on
// the right). Box scores average the map over exactly these pixels.
const ONE = 65536;

/** OpenCV's clipLine: both ends moved onto the image, in its integer arithmetic. */
function clipLine(w: number, h: number, p: Point, q: Point): boolean {
  const right = w - 1;
  const bottom = h - 1;
  let [x1, y1] = p;
  let [x2, y2] = q;
  const code = (x: number, y: number) => (x < 0 ? 1 : 0) + (x > right ? 2 : 0) + (y < 0 ? 4 : 0) + (y > bottom ? 8 : 0);
  let c1 = code(x1, y1);
  let c2 = code(x2, y2);
  if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
    if (c1 & 12) {
      const a = c1 < 8 ? 0 : bottom;
      x1 += Math.trunc(((a - y1) * (x2 - x1)) / (y2 - y1));
      y1 = a;
      c1 = (x1 < 0 ? 1 : 0) + (x1 > right ? 2 : 0);
    }
    if (c2 & 12) {
      const a = c2 < 8 ? 0 : bottom;
      x2 += Math.trunc(((a - y2) * (x2 - x1)) / (y2 - y1));
      y2 = a;
      c2 = (x2 < 0 ? 1 : 0) + (x2 > right ? 2 : 0);
    }
    if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
      if (c1) {
        const a = c1 === 1 ? 0 : right;
        y1 += Math.trunc(((a - x1) * (y2 - y1)) / (x2 - x1));
        x1 = a;
        c1 = 0;
      }
      if (c2) {
        const a = c2 === 1 ? 0 : right;
        y2 += Math.trunc(((a - x2) * (y2 - y1)) / (x2 - x1));
        x2 = a;
        c2 = 0;
      }
    }
  }
  p[0] = x1;
  p[1] = y1;
  q[0] = x2;
  q[1] = y2;
  return (c1 | c2) === 0;
}

/** Bresenham line with 8-connectivity, walked left to right as OpenCV's LineIterator does. */
function line(mask: Uint8Array, w: number, h: number, from: Point, to: Point): void {
  let p: Point = [from[0], from[1]];
  const q: Point = [to[0], to[1]];
  const outside = (pt: Point) => pt[0] < 0 || pt[0] >= w || pt[1] < 0 || pt[1] >= h;
  if ((outside(p) || outside(q)) && !clipLine(w, h, p, q)) return;
  let dx = q[0] - p[0];
  let dy = q[1] - p[1];
  if (dx < 0) {
    [dx, dy] = [-dx, -dy];
    p = q;
  }
  let sy = 1;
  if (dy < 0) {
    dy = -dy;
    sy = -1;
  }
  const steep = dy > dx;
  const [major, minor] = steep ? [dy, dx] : [dx, dy];
  let err = major - 2 * minor;
  let [x, y] = p;
  for (let i = 0; i <= major; i++) {
    mask[y * w + x] = 1;
    const diagonal = err < 0;
    err += -2 * minor + (diagonal ? 2 * major : 0);
    // along the major axis always, along the minor one when the error says so
    if (steep) {
      y += sy;
      if (diagonal) x += 1;
    } else {
      x += 1;
      if (diagonal) y += sy;
    }
  }
}

export function fillPolygon(points: readonly Point[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  const edges: { y0: number; y1: number; x: number; dx: number }[] = [];
  const n = points.length;
  for (let i = 0; i < n; i++) {
    const a = points[(i + n - 1) % n]!;
    const b = points[i]!;
    line(mask, width, height, a, b);
    if (a[1] === b[1]) continue;
    const dx = Math.trunc(((b[0] - a[0]) * ONE) / (b[1] - a[1]));
    edges.push(a[1] < b[1] ? { y0: a[1], y1: b[1], x: a[0] * ONE, dx } : { y0: b[1], y1: a[1], x: b[0] * ONE, dx });
  }
  if (edges.length < 2) return mask;
  const yMin = Math.min(...edges.map((e) => e.y0));
  const yMax = Math.min(Math.max(...edges.map((e) => e.y1)), height);
  for (let y = Math.max(yMin, 0); y < yMax; y++) {
    const xs = edges
      .filter((e) => e.y0 <= y && y < e.y1)
      .map((e) => e.x + (y - e.y0) * e.dx)
      .sort((p, q) => p - q);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const x1 = Math.max(Math.floor((xs[i]! + ONE - 1) / ONE), 0);
      const x2 = Math.min(Math.floor(xs[i + 1]! / ONE), width - 1);
      for (let x = x1; x <= x2; x++) mask[y * width + x] = 1;
    }
  }
  return mask;
}
