/**
 * Borders of the foreground of a binary map, as OpenCV's findContours(RETR_LIST) finds them:
 * Suzuki-Abe border following with 8-connected foreground, outer borders and hole borders
 * alike, in OpenCV's order (last found first: bottom to top), each compressed as
 * CHAIN_APPROX_SIMPLE compresses it (only the pixels where the border turns), starting where
 * OpenCV starts it: the order matters to the convex hull that min-area rectangles start from.
 */

// Neighbour directions counter-clockwise on screen (y down), starting east; OpenCV's order.
const DX = [1, 1, 0, -1, -1, -1, 0, 1];
const DY = [0, -1, -1, -1, 0, 1, 1, 1];

const VISITED = 2;
const RIGHT_EDGE = -2;

export function findContours(mask: Uint8Array, width: number, height: number): Array<Array<[number, number]>> {
  const w = width + 2;
  // One pixel of background around the map, as OpenCV adds, so borders touching the edge close.
  const f = new Int8Array(w * (height + 2));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (mask[y * width + x]) f[(y + 1) * w + x + 1] = 1;
  }
  const offsets = DX.map((dx, i) => dx + DY[i]! * w);
  const contours: Array<Array<[number, number]>> = [];

  const follow = (start: number, hole: boolean): Array<[number, number]> => {
    const points: Array<[number, number]> = [];
    const push = (p: number) => points.push([(p % w) - 1, Math.floor(p / w) - 1]);
    // Look clockwise from the background neighbour that started the border.
    const from = hole ? 0 : 4;
    let s = from;
    do s = (s + 7) & 7;
    while (f[start + offsets[s]!] === 0 && s !== from);
    if (s === from && f[start + offsets[s]!] === 0) {
      f[start] = RIGHT_EDGE; // isolated pixel
      push(start);
      return points;
    }
    const second = start + offsets[s]!;
    // CHAIN_APPROX_SIMPLE: a pixel is kept where the direction of travel changes.
    let heading = s ^ 4;
    let current = start;
    for (;;) {
      const back = s;
      let next = current;
      // Counter-clockwise from the pixel we came from, up to a full turn.
      for (let k = 1; k <= 8; k++) {
        const dir = (back + k) & 7;
        next = current + offsets[dir]!;
        if (f[next] !== 0) {
          s = dir;
          break;
        }
      }
      // The east neighbour was examined (and was background) when the sweep wrapped past it.
      if (s !== 0 && s <= back) f[current] = RIGHT_EDGE;
      else if (f[current] === 1) f[current] = VISITED;
      if (s !== heading) {
        push(current);
        heading = s;
      }
      if (next === start && current === second) break;
      current = next;
      s = (s + 4) & 7;
    }
    return points;
  };

  for (let y = 1; y <= height; y++) {
    for (let x = 1; x <= width + 1; x++) {
      const p = y * w + x;
      const here = f[p]!;
      const left = f[p - 1]!;
      if (here === 1 && left === 0) contours.push(follow(p, false));
      else if (here === 0 && left >= 1) contours.push(follow(p - 1, true));
    }
  }
  return contours.reverse();
}
