/**
 * One face of an OpenType collection (.ttc) as a standalone font file. Debian ships Noto CJK
 * only as collections, whose first face is the Japanese one; canvas libraries load that first
 * face, so the Simplified Chinese face is cut out to draw Chinese with Chinese glyph shapes.
 */

function family(font: Buffer, dir: number): string | undefined {
  const tables = font.readUInt16BE(dir + 4);
  for (let t = 0; t < tables; t++) {
    const rec = dir + 12 + t * 16;
    if (font.toString('latin1', rec, rec + 4) !== 'name') continue;
    const name = font.readUInt32BE(rec + 8);
    const count = font.readUInt16BE(name + 2);
    const strings = name + font.readUInt16BE(name + 4);
    for (let i = 0; i < count; i++) {
      const r = name + 6 + i * 12;
      // Windows platform, Unicode BMP, family name (ID 1): UTF-16BE
      if (font.readUInt16BE(r) !== 3 || font.readUInt16BE(r + 6) !== 1) continue;
      const start = strings + font.readUInt16BE(r + 10);
      return Buffer.from(font.subarray(start, start + font.readUInt16BE(r + 8)))
        .swap16()
        .toString('utf16le');
    }
  }
  return undefined;
}

/** Table directory offsets of the collection's faces, with their family names. */
export function collectionFaces(ttc: Buffer): { family: string | undefined; offset: number }[] {
  if (ttc.toString('latin1', 0, 4) !== 'ttcf') return [{ family: family(ttc, 0), offset: 0 }];
  const count = ttc.readUInt32BE(8);
  return Array.from({ length: count }, (_, i) => {
    const offset = ttc.readUInt32BE(12 + i * 4);
    return { family: family(ttc, offset), offset };
  });
}

/** The face whose table directory starts at `offset`, rebuilt as a single-font file. */
export function extractFace(ttc: Buffer, offset: number): Buffer {
  const tables = ttc.readUInt16BE(offset + 4);
  const header = 12 + tables * 16;
  const records = Array.from({ length: tables }, (_, t) => {
    const rec = offset + 12 + t * 16;
    return { rec, at: ttc.readUInt32BE(rec + 8), length: ttc.readUInt32BE(rec + 12) };
  });
  const size = records.reduce((n, r) => n + Math.ceil(r.length / 4) * 4, header);
  const out = Buffer.alloc(size);
  ttc.copy(out, 0, offset, offset + 12);
  let at = header;
  records.forEach((r, t) => {
    ttc.copy(out, 12 + t * 16, r.rec, r.rec + 8); // tag and checksum
    out.writeUInt32BE(at, 12 + t * 16 + 8);
    out.writeUInt32BE(r.length, 12 + t * 16 + 12);
    ttc.copy(out, at, r.at, r.at + r.length);
    at += Math.ceil(r.length / 4) * 4;
  });
  return out;
}
