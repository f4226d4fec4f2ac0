export type ImageFormat = 'png' | 'jpeg';

export type HeaderResult =
  | {
      ok: true;
      format: ImageFormat;
      width: number;
      height: number;
      /** Bytes per pixel as decoded: channels x bytes per sample. */ pixelBytes: number;
    }
  | { ok: false; problem: string };

/** Channels per PNG colour type (a palette expands to RGBA at most). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 4, 4: 2, 6: 4 };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const u16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;

function pngHeader(b: Uint8Array): HeaderResult {
  if (b.length < 24) return { ok: false, problem: 'truncated PNG: the file ends inside its header' };
  if (String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR')
    return { ok: false, problem: 'corrupt PNG: no IHDR header chunk' };
  if (b.length < 26) return { ok: false, problem: 'truncated PNG: the file ends inside its header' };
  const channels = PNG_CHANNELS[b[25]!];
  if (channels === undefined) return { ok: false, problem: `corrupt PNG: unknown colour type ${b[25]}` };
  return {
    ok: true,
    format: 'png',
    width: u32(b, 16),
    height: u32(b, 20),
    pixelBytes: channels * (b[24]! > 8 ? 2 : 1),
  };
}

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC are not frames. */
function isFrameMarker(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function jpegHeader(b: Uint8Array): HeaderResult {
  let i = 2;
  while (i + 1 < b.length) {
    if (b[i] !== 0xff) return { ok: false, problem: 'corrupt JPEG: bad marker structure' };
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda)
      return { ok: false, problem: 'corrupt JPEG: image data before any frame header' };
    if (i + 4 > b.length) break;
    const length = u16(b, i + 2);
    if (length < 2) return { ok: false, problem: 'corrupt JPEG: bad marker length' };
    if (isFrameMarker(marker)) {
      if (i + 10 > b.length) break;
      // precision (bits per sample) at +4, then height, width, components
      const pixelBytes = Math.max(1, b[i + 9]!) * (b[i + 4]! > 8 ? 2 : 1);
      return { ok: true, format: 'jpeg', width: u16(b, i + 7), height: u16(b, i + 5), pixelBytes };
    }
    i += 2 + length;
  }
  return { ok: false, problem: 'truncated JPEG: the file ends before its frame header' };
}

/**
 * Format and stored size of a PNG or JPEG from its header, read before any decoder sees the
 * bytes so that size limits hold whatever the decoder would allocate.
 */
export function readImageHeader(bytes: Uint8Array): HeaderResult {
  if (PNG_SIGNATURE.every((v, i) => bytes[i] === v)) return pngHeader(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegHeader(bytes);
  return { ok: false, problem: 'not a PNG or JPEG image' };
}
