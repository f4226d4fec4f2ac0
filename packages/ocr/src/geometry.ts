export type Point = [x: number, y: number];
/** Four corners: top-left, top-right, bottom-right, bottom-left once ordered. */
export type Quad = [Point, Point, Point, Point];

export function distance(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/** Signed shoelace area; positive when the points run clockwise on screen (y down). */
export function signedArea(points: readonly Point[]): number {
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    const [x2, y2] = points[(i + 1) % points.length]!;
    sum += x1 * y2 - x2 * y1;
  }
  return sum / 2;
}

export function perimeter(points: readonly Point[]): number {
  let sum = 0;
  for (let i = 0; i < points.length; i++) sum += distance(points[i]!, points[(i + 1) % points.length]!);
  return sum;
}

/**
 * Corners as top-left, top-right, bottom-right, bottom-left, the way PaddleOCR's
 * order_points_clockwise picks them: smallest and largest x + y, then the other two by y - x.
 */
export function orderClockwise(pts: readonly Point[]): Quad {
  const sums = pts.map(([x, y]) => x + y);
  const first = sums.indexOf(Math.min(...sums));
  const third = sums.indexOf(Math.max(...sums));
  const rest = pts.filter((_, i) => i !== first && i !== third);
  // numpy deletes both indices; when they coincide one extra point survives and the first two count.
  const a = rest[0]!;
  const b = rest[1] ?? rest[0]!;
  const da = a[1] - a[0];
  const db = b[1] - b[0];
  const second = db < da ? b : a;
  const fourth = db > da ? b : a;
  return [[...pts[first]!], [...second], [...pts[third]!], [...fourth]] as Quad;
}
