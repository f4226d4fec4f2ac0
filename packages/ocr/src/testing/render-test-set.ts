import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { testFonts } from './fonts.js';
import { between, pick, seededRandom, type Random } from './seeded-random.js';
import { SAMPLE_KINDS, sampleText, type SampleKind } from './text-samples.js';

export interface LineSample {
  kind: SampleKind;
  text: string;
  font: string;
  png: Buffer;
}

export interface PageLine {
  kind: SampleKind;
  text: string;
  /** Ink bounds: left, top, right, bottom. */
  box: [number, number, number, number];
}

export interface PageSample {
  width: number;
  height: number;
  png: Buffer;
  lines: PageLine[];
}

function fontFor(rand: Random, kind: SampleKind): string {
  const { cjk, latin } = testFonts();
  // DejaVu has no Chinese glyphs; Latin-only lines may use either family.
  return pick(rand, kind === 'chinese' || kind === 'mixed' ? cjk : [...cjk, ...latin]);
}

function colours(rand: Random): { paper: string; ink: string } {
  const g = between(rand, 215, 255);
  const tint = () => Math.min(255, g + between(rand, -12, 0));
  const k = between(rand, 0, 70);
  return {
    paper: `rgb(${tint()},${tint()},${tint()})`,
    ink: `rgb(${k},${k},${between(rand, k, Math.min(k + 60, 120))})`,
  };
}

function measure(ctx: SKRSContext2D, text: string) {
  const m = ctx.measureText(text);
  return {
    left: m.actualBoundingBoxLeft,
    width: m.actualBoundingBoxLeft + m.actualBoundingBoxRight,
    ascent: m.actualBoundingBoxAscent,
    descent: m.actualBoundingBoxDescent,
  };
}

/** Single text lines, each on its own tightly cropped image with a small margin; kinds in turn. */
export function renderLines(count: number, seed: number): LineSample[] {
  const rand = seededRandom(seed);
  const out: LineSample[] = [];
  for (let i = 0; i < count; i++) {
    const kind = SAMPLE_KINDS[i % SAMPLE_KINDS.length]!;
    const text = sampleText(rand, kind);
    const font = fontFor(rand, kind);
    const size = between(rand, 20, 40);
    const probe = createCanvas(8, 8).getContext('2d');
    probe.font = `${size}px "${font}"`;
    const m = measure(probe, text);
    const mx = between(rand, 4, 16);
    const my = between(rand, 3, 10);
    const canvas = createCanvas(Math.ceil(m.width) + 2 * mx, Math.ceil(m.ascent + m.descent) + 2 * my);
    const ctx = canvas.getContext('2d');
    const { paper, ink } = colours(rand);
    ctx.fillStyle = paper;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.font = `${size}px "${font}"`;
    ctx.fillStyle = ink;
    ctx.fillText(text, mx + m.left, my + m.ascent);
    out.push({ kind, text, font, png: canvas.toBuffer('image/png') });
  }
  return out;
}

/** Page sizes are multiples of 32, so a detector input needs no resizing at all. */
const PAGE_SIZES: ReadonlyArray<[number, number]> = [
  [640, 480],
  [480, 640],
  [800, 608],
  [704, 512],
];

/**
 * Small pages of left-aligned lines, one phrase per line and generous spacing, so that every
 * line is one detection box; kinds in turn across the set.
 */
export function renderPages(count: number, seed: number): PageSample[] {
  const rand = seededRandom(seed);
  const pages: PageSample[] = [];
  let k = 0;
  for (let p = 0; p < count; p++) {
    const [width, height] = pick(rand, PAGE_SIZES);
    const canvas = createCanvas(width, height);
    const ctx = canvas.getContext('2d');
    const { paper, ink } = colours(rand);
    ctx.fillStyle = paper;
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = ink;
    const lines: PageLine[] = [];
    let y = between(rand, 16, 40);
    for (;;) {
      const kind = SAMPLE_KINDS[k % SAMPLE_KINDS.length]!;
      const size = between(rand, 18, 34);
      const font = fontFor(rand, kind);
      ctx.font = `${size}px "${font}"`;
      let text = sampleText(rand, kind);
      const x = between(rand, 12, 60);
      while (text.length > 1 && measure(ctx, text).width > width - x - 12) text = text.slice(0, -1).trimEnd();
      const m = measure(ctx, text);
      const top = y;
      const baseline = top + m.ascent;
      if (baseline + m.descent > height - 16) break;
      ctx.fillText(text, x + m.left, baseline);
      lines.push({ kind, text, box: [x, Math.floor(top), Math.ceil(x + m.width), Math.ceil(baseline + m.descent)] });
      k++;
      y = Math.ceil(baseline + m.descent + size * (0.8 + rand() * 0.6));
    }
    pages.push({ width, height, png: canvas.toBuffer('image/png'), lines });
  }
  return pages;
}
