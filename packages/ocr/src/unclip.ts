import type { Point } from './geometry.js';

// @gutenye/ocr grows boxes with js-clipper 1.0.1, a JavaScript port of Clipper 6.1.3; its
// constants are kept as written there. PaddleOCR calls pyclipper (Clipper 6.4.2), which
// truncates the corners to integers first, skips no nearly straight vertex, and caps the arc
// steps for small offsets; those differences move grown corners by a pixel now and then.
const PI = 3.14159265358979;
const TWO_PI = 6.28318530717959;
const ARC_TOLERANCE = 0.25;

/** Clipper's Round (js-clipper's choice under Node): half away from zero. */
const round = (v: number) => (v < 0 ? Math.ceil(v - 0.5) : Math.floor(v + 0.5));
const same = (a: Point, b: Point) => a[0] === b[0] && a[1] === b[1];

function unitNormal(a: Point, b: Point): Point {
  let dx = b[0] - a[0];
  let dy = b[1] - a[1];
  if (dx === 0 && dy === 0) return [0, 0];
  const f = 1 / Math.sqrt(dx * dx + dy * dy);
  dx *= f;
  dy *= f;
  return [dy, -dx];
}

/** Clipper's Area: positive for a polygon running counter-clockwise in y-up terms. */
function clipperArea(poly: readonly Point[]): number {
  if (poly.length < 3) return 0;
  let a = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++)
    a += (poly[j]![0] + poly[i]![0]) * (poly[j]![1] - poly[i]![1]);
  return -a * 0.5;
}

/**
 * ClipperOffset (jtRound, etClosedPolygon, miter limit 2, arc tolerance 0.25) as js-clipper
 * 1.0.1 runs it for a positive offset, before the clean-up union: corners are used as given
 * (not truncated), repeats dropped, the path turned to Clipper's orientation, and each
 * vertex's arc stepped with the same rotation; outputs are rounded half away from zero.
 */
export function offsetRound(input: readonly Point[], delta: number): Point[] {
  let high = input.length - 1;
  if (high < 0 || !(delta > 0)) return [];
  while (high > 0 && same(input[0]!, input[high]!)) high--;
  const path: Point[] = [input[0]!];
  for (let i = 1; i <= high; i++) if (!same(path[path.length - 1]!, input[i]!)) path.push(input[i]!);
  if (path.length < 3) return [];
  if (!(clipperArea(path) >= 0)) path.reverse();

  const y = ARC_TOLERANCE > delta * ARC_TOLERANCE ? delta * ARC_TOLERANCE : ARC_TOLERANCE;
  const steps = PI / Math.acos(1 - y / delta);
  const sin = Math.sin(TWO_PI / steps);
  const cos = Math.cos(TWO_PI / steps);
  const stepsPerRad = steps / TWO_PI;

  const n = path.length;
  const normals = path.map((p, j) => unitNormal(p, path[(j + 1) % n]!));
  const out: Point[] = [];
  const emit = (p: Point, nx: number, ny: number) => out.push([round(p[0] + nx * delta), round(p[1] + ny * delta)]);
  let k = n - 1;
  for (let j = 0; j < n; j++) {
    const p = path[j]!;
    const nk = normals[k]!;
    const nj = normals[j]!;
    let sinA = nk[0] * nj[1] - nj[0] * nk[1];
    // Clipper 6.1.3 skips a nearly straight vertex altogether (and k keeps the older edge).
    if (sinA < 0.00005 && sinA > -0.00005) continue;
    if (sinA > 1) sinA = 1;
    else if (sinA < -1) sinA = -1;
    if (sinA * delta < 0) {
      // concave corner: the notch is left for the union (the vertex itself as it is)
      emit(p, nk[0], nk[1]);
      out.push([p[0], p[1]]);
      emit(p, nj[0], nj[1]);
    } else {
      const a = Math.atan2(sinA, nk[0] * nj[0] + nk[1] * nj[1]);
      const count = ~~round(stepsPerRad * Math.abs(a));
      let x = nk[0];
      let yy = nk[1];
      for (let i = 0; i < count; i++) {
        emit(p, x, yy);
        const x2 = x;
        x = x * cos - sin * yy;
        yy = x2 * sin + yy * cos;
      }
      emit(p, nj[0], nj[1]);
    }
    k = j;
  }
  return out;
}

/**
 * What Clipper's clean-up union leaves of a simple polygon: no repeated points, no vertex in
 * line with its neighbours (spikes included), and the sequence starting just after the
 * topmost vertex (the last of a run at the same height). The order matters to the minimum
 * area rectangle fitted to the result later.
 */
export function cleanPolygon(input: readonly Point[]): Point[] {
  const pts = input.map((p): Point => [p[0], p[1]]);
  let changed = true;
  while (changed && pts.length > 2) {
    changed = false;
    for (let i = 0; i < pts.length && pts.length > 2; i++) {
      const a = pts[(i + pts.length - 1) % pts.length]!;
      const b = pts[i]!;
      const c = pts[(i + 1) % pts.length]!;
      if (same(a, b) || (b[0] - a[0]) * (c[1] - b[1]) === (b[1] - a[1]) * (c[0] - b[0])) {
        pts.splice(i, 1);
        changed = true;
        i--;
      }
    }
  }
  if (pts.length < 3) return pts;
  const top = Math.min(...pts.map((p) => p[1]));
  let last = pts.findIndex((p) => p[1] === top);
  // the run of topmost vertices may wrap around the end of the list
  if (last === 0) while (pts[(last + pts.length - 1) % pts.length]![1] === top && last > -pts.length) last--;
  while (pts[(last + 1 + pts.length) % pts.length]![1] === top) last++;
  const start = (last + 1 + 2 * pts.length) % pts.length;
  return [...pts.slice(start), ...pts.slice(0, start)];
}

/** d3-polygon's polygonArea, which @gutenye/ocr uses: signed, from the last vertex round. */
function polygonArea(polygon: readonly Point[]): number {
  let b = polygon[polygon.length - 1]!;
  let area = 0;
  for (const a of polygon) {
    area += b[1] * a[0] - b[0] * a[1];
    b = a;
  }
  return area / 2;
}

/** d3-polygon's polygonLength. */
function polygonLength(polygon: readonly Point[]): number {
  let [xb, yb] = polygon[polygon.length - 1]!;
  let perimeter = 0;
  for (const p of polygon) {
    const xa = xb - p[0];
    const ya = yb - p[1];
    [xb, yb] = p;
    perimeter += Math.hypot(xa, ya);
  }
  return perimeter;
}

/**
 * The unclip of DB post-processing: grow a detected box by area * ratio / perimeter on every
 * side, as @gutenye/ocr computes it (see offsetRound); empty when nothing is left.
 */
export function unclip(box: readonly Point[], ratio: number): Point[] {
  const length = polygonLength(box);
  if (!(length > 0)) return [];
  return cleanPolygon(offsetRound(box, (Math.abs(polygonArea(box)) * ratio) / length));
}
