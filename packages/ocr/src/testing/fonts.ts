import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GlobalFonts } from '@napi-rs/canvas';
import { collectionFaces, extractFace } from './ttc-face.js';

export interface TestFonts {
  /** Families with Chinese glyphs (they have Latin ones too). */
  cjk: string[];
  /** Latin-only families, when DejaVu is installed. */
  latin: string[];
}

/** Debian's fonts-noto-cjk and fonts-dejavu-core install here. */
const CJK = {
  dirs: ['/usr/share/fonts/opentype/noto', '/usr/share/fonts/noto-cjk'],
  files: ['NotoSansCJK-Regular.ttc', 'NotoSerifCJK-Regular.ttc', 'NotoSansCJK-Bold.ttc'],
};
const LATIN = {
  dirs: ['/usr/share/fonts/truetype/dejavu'],
  files: ['DejaVuSans.ttf', 'DejaVuSerif.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSansMono.ttf'],
};

function register(set: { dirs: string[]; files: string[] }, prefix: string): string[] {
  const families: string[] = [];
  for (const file of set.files) {
    const path = set.dirs.map((d) => join(d, file)).find((p) => existsSync(p));
    if (!path) continue;
    // Registered under our own names so that system fonts with similar names cannot stand in.
    const family = `${prefix}-${file.replace(/\.[a-z]+$/, '')}`;
    let font: Buffer = readFileSync(path);
    // Collections: the Simplified Chinese face, so that Chinese gets Chinese glyph shapes.
    const faces = collectionFaces(font);
    const face = faces.find((f) => / SC$/.test(f.family ?? '')) ?? faces[0]!;
    if (faces.length > 1) font = extractFace(font, face.offset);
    if (!GlobalFonts.register(font, family)) throw new Error(`could not load font ${path}`);
    families.push(family);
  }
  return families;
}

let loaded: TestFonts | undefined;

/** Registers the fonts the test set is drawn with; Chinese fonts are required. */
export function testFonts(): TestFonts {
  if (loaded) return loaded;
  const cjk = register(CJK, 'test-cjk');
  if (cjk.length === 0) {
    throw new Error(
      `The OCR tests draw Chinese text and need the Noto CJK fonts (${CJK.files[0]} in ${CJK.dirs.join(' or ')}). ` +
        'Install the Debian package: apt-get install -y fonts-noto-cjk (scripts/bootstrap.mjs installs it).',
    );
  }
  loaded = { cjk, latin: register(LATIN, 'test-latin') };
  return loaded;
}
