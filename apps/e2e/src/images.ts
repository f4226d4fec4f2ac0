import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
let registered = false;

/** A PNG of black text lines on white, drawn with DejaVu Sans (npm test installs it). */
export function renderText(
  lines: string[],
  options: { width?: number; height?: number; lineHeight?: number; size?: number; format?: 'png' | 'jpeg' } = {},
): Buffer {
  if (!registered) {
    if (!existsSync(FONT)) throw new Error(`${FONT} is missing: install the Debian package fonts-dejavu-core`);
    GlobalFonts.registerFromPath(FONT, 'E2E Sans');
    registered = true;
  }
  const size = options.size ?? 32;
  const lineHeight = options.lineHeight ?? size * 2;
  const width = options.width ?? Math.max(...lines.map((l) => l.length)) * size * 0.7 + 2 * size;
  const canvas = createCanvas(Math.ceil(width), Math.ceil(options.height ?? lineHeight * lines.length + size));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#000';
  ctx.font = `${size}px "E2E Sans"`;
  ctx.textBaseline = 'middle';
  lines.forEach((line, i) => ctx.fillText(line, size, lineHeight * (i + 0.5) + size / 2));
  return options.format === 'jpeg' ? canvas.toBuffer('image/jpeg', 90) : canvas.toBuffer('image/png');
}
