import { perimeter, signedArea, type Point, type Quad } from './geometry.js';

/** Clipper's Round: half away from zero. */
const round = (v: number) => (v < 0 ? Math.ceil(v - 0.5) : Math.floor(v + 0.5));

function unitNormal(a: Point, b: Point): Point {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  if (dx === 0 && dy === 0) return [0, 0];
  const f = 1 / Math.hypot(dx, dy);
  return [dy * f, -dx * f];
}

/**
 * Outward offset of a closed polygon with round joins, following Clipper's ClipperOffset
 * (jtRound, etClosedPolygon, arc tolerance 0.25), which PaddleOCR calls through pyclipper:
 * integer input (pyclipper truncates), arcs stepped the same way, output rounded half away
 * from zero. Convex input needs no clean-up union, so none is done.
 */
export function offsetRound(input: readonly Point[], delta: number, arcTolerance = 0.25): Point[] {
  const path: Point[] = [];
  for (const [x, y] of input) {
    const p: Point = [Math.trunc(x), Math.trunc(y)];
    const last = path[path.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) path.push(p);
  }
  while (path.length > 1 && path[0]![0] === path[path.length - 1]![0] && path[0]![1] === path[path.length - 1]![1]) path.pop();
  if (path.length === 0) return [];
  if (signedArea(path) < 0) path.reverse();
  if (Math.abs(delta) < 1e-20) return path;

  const tolerance = arcTolerance <= 0 ? 0.25 : Math.min(arcTolerance, Math.abs(delta) * 0.25);
  let steps = Math.PI / Math.acos(1 - tolerance / Math.abs(delta));
  if (steps > Math.abs(delta) * Math.PI) steps = Math.abs(delta) * Math.PI;
  const sin = Math.sin((2 * Math.PI) / steps) * (delta < 0 ? -1 : 1);
  const cos = Math.cos((2 * Math.PI) / steps);
  const stepsPerRad = steps / (2 * Math.PI);
  const out: Point[] = [];
  const emit = (p: Point, nx: number, ny: number) => out.push([round(p[0] + nx * delta), round(p[1] + ny * delta)]);

  if (path.length === 1) {
    let x = 1, y = 0;
    for (let j = 1; j <= steps; j++) {
      emit(path[0]!, x, y);
      [x, y] = [x * cos - sin * y, x * sin + y * cos];
    }
    return out;
  }

  const n = path.length;
  const normals = path.map((p, i) => unitNormal(p, path[(i + 1) % n]!));
  let k = n - 1;
  for (let j = 0; j < n; j++) {
    const p = path[j]!;
    const nk = normals[k]!;
    const nj = normals[j]!;
    let sinA = nk[0] * nj[1] - nj[0] * nk[1];
    const cosA = nk[0] * nj[0] + nk[1] * nj[1];
    if (Math.abs(sinA * delta) < 1 && cosA > 0) {
      // Nearly straight: one point, and (as Clipper does) k keeps the older edge's normal.
      emit(p, nk[0], nk[1]);
      continue;
    }
    sinA = Math.max(-1, Math.min(1, sinA));
    if (sinA * delta < 0) {
      // concave corner: Clipper leaves the notch for its union to remove
      emit(p, nk[0], nk[1]);
      out.push([p[0], p[1]]);
      emit(p, nj[0], nj[1]);
    } else {
      const a = Math.atan2(sinA, cosA);
      const count = Math.max(round(stepsPerRad * Math.abs(a)), 1);
      let x = nk[0], y = nk[1];
      for (let i = 0; i < count; i++) {
        emit(p, x, y);
        [x, y] = [x * cos - sin * y, x * sin + y * cos];
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
      const same = a[0] === b[0] && a[1] === b[1];
      if (same || (b[0] - a[0]) * (c[1] - b[1]) === (b[1] - a[1]) * (c[0] - b[0])) {
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

/** PaddleOCR's unclip: grow a detected box by area * ratio / perimeter on every side. */
export function unclip(box: Quad, ratio: number): Point[] {
  const length = perimeter(box);
  if (length === 0) return [];
  return cleanPolygon(offsetRound(box, (Math.abs(signedArea(box)) * ratio) / length));
}
