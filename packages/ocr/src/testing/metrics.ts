/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

export const withoutSpaces = (s: string): string => s.replace(/\s+/g, '');

/** How a set of predictions compares with the truth, line by line. */
export interface TextScore {
  lines: number;
  /** Share of lines read exactly. */
  exact: number;
  /** Share of lines read exactly once whitespace is ignored. */
  exactIgnoringSpaces: number;
  /** Character error rate: edit distance over truth length, summed over lines. */
  cer: number;
}

export function scoreTexts(pairs: ReadonlyArray<{ predicted: string; truth: string }>): TextScore {
  let exact = 0;
  let loose = 0;
  let errors = 0;
  let chars = 0;
  for (const { predicted, truth } of pairs) {
    if (predicted === truth) exact++;
    if (withoutSpaces(predicted) === withoutSpaces(truth)) loose++;
    errors += editDistance(predicted, truth);
    chars += [...truth].length;
  }
  const n = pairs.length;
  const share = (k: number) => (n === 0 ? 0 : Math.round((k / n) * 10000) / 10000);
  return {
    lines: n,
    exact: share(exact),
    exactIgnoringSpaces: share(loose),
    cer: chars === 0 ? 0 : Math.round((errors / chars) * 10000) / 10000,
  };
}

export type Rect = [left: number, top: number, right: number, bottom: number];

export function boundsOf(points: ReadonlyArray<readonly number[]>): Rect {
  const xs = points.map((p) => p[0]!);
  const ys = points.map((p) => p[1]!);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

const centre = (r: Rect): [number, number] => [(r[0] + r[2]) / 2, (r[1] + r[3]) / 2];
const inside = ([x, y]: [number, number], r: Rect) => x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3];

/**
 * The text found inside a target rectangle: every predicted line whose centre lies in it,
 * left to right, joined by a space (a row split into several boxes still reads as one line).
 * Empty when nothing was found there.
 */
export function textAt(target: Rect, predicted: ReadonlyArray<{ text: string; rect: Rect }>): string {
  return predicted
    .filter((p) => inside(centre(p.rect), target))
    .sort((a, b) => a.rect[0] - b.rect[0])
    .map((p) => p.text)
    .join(' ');
}
