import { loadSharp } from './sharp-lazy.js';
import { ServiceError } from '@tessera/contract';
import { decodeBase64Image } from './base64-image.js';
import { DecodeGate } from './decode-gate.js';
import { readImageHeader } from './image-header.js';
import type { OcrLimits } from './limits.js';
import type { RgbImage } from './rgb-image.js';

const invalid = (message: string) => new ServiceError('invalid_input', message);

interface Checked {
  bytes: Buffer;
  width: number;
  height: number;
  /** What the decoder allocates for it at full size. */
  decodedBytes: number;
}

function check(value: unknown, index: number, limits: OcrLimits): Checked {
  const at = `images[${index}]`;
  if (typeof value !== 'string') {
    throw invalid(
      `${at} must be a base64-encoded PNG or JPEG string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  const encoded = decodeBase64Image(value, limits.maxImageBytes);
  if (!encoded.ok) throw invalid(`${at}: ${encoded.problem}`);
  const header = readImageHeader(encoded.bytes);
  if (!header.ok) throw invalid(`${at}: ${header.problem}`);
  const { width, height } = header;
  if (width === 0 || height === 0) throw invalid(`${at}: the image is empty (${width}x${height} pixels)`);
  if (width * height > limits.maxImagePixels) {
    throw invalid(
      `${at}: ${width}x${height} = ${width * height} pixels, over the limit of ${limits.maxImagePixels} pixels per image`,
    );
  }
  return { bytes: encoded.bytes, width, height, decodedBytes: width * height * header.pixelBytes };
}

/** The long side that brings width x height down to `pixels` (undefined: small enough already). */
export function shrinkSide(width: number, height: number, pixels: number): number | undefined {
  if (width * height <= pixels) return undefined;
  return Math.max(1, Math.floor(Math.max(width, height) * Math.sqrt(pixels / (width * height))));
}

async function decode(image: Checked, index: number, limits: OcrLimits): Promise<RgbImage> {
  try {
    const side = shrinkSide(image.width, image.height, limits.workingPixels);
    let pipeline = (await loadSharp())(image.bytes, {
      limitInputPixels: limits.maxImagePixels,
      failOn: 'warning',
      sequentialRead: true,
    })
      // cv2.imread honours EXIF orientation, and PaddleOCR flattens transparency onto white.
      .autoOrient();
    // Bounding the long side keeps the pixel count whatever the orientation. JPEGs are shrunk
    // by the decoder itself (libjpeg's scaled decoding), and with sequential reading a PNG
    // streams through the resize a few rows at a time: the full-size image is never held.
    if (side !== undefined)
      pipeline = pipeline.resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true });
    const { data, info } = await pipeline
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    const scale = side === undefined ? 1 : Math.max(info.width, info.height) / Math.max(image.width, image.height);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      ...(scale < 1 ? { scale } : {}),
    };
  } catch (err) {
    // The header was readable, so a decoder failure means missing or damaged pixel data.
    const reason = ((err as Error).message ?? String(err)).split('\n')[0];
    throw invalid(`images[${index}]: truncated or corrupt image data (${reason})`);
  }
}

/** Decodes at once per process when no gate is given (tests, tools). */
const UNSHARED_GATE = new DecodeGate(2);

/**
 * Validates `body.images` (base64 PNG or JPEG strings, or base64 data: URLs) against the
 * limits and decodes them to RGB, shrunk to `workingPixels` when larger. Every image is checked
 * before any is decoded, so a bad item late in the list costs no decoding work; then they are
 * decoded one at a time, each when `gate` lets it, so that one request holds at most one
 * decoder's buffers.
 */
export async function readImages(
  body: Record<string, unknown>,
  limits: OcrLimits,
  gate: DecodeGate = UNSHARED_GATE,
): Promise<RgbImage[]> {
  const pages: RgbImage[] = [];
  for (const decodeNext of checkImages(body, limits, gate)) pages.push(await decodeNext());
  return pages;
}

/**
 * Validates `body.images` as readImages does, all of them before any is decoded, and returns
 * one decoder per image, for callers that finish with each image before decoding the next (a
 * page is then the most one request holds).
 */
export function checkImages(
  body: Record<string, unknown>,
  limits: OcrLimits,
  gate: DecodeGate = UNSHARED_GATE,
): (() => Promise<RgbImage>)[] {
  const images = body.images;
  if (!Array.isArray(images)) throw invalid("'images' must be an array of base64-encoded PNG or JPEG strings");
  if (images.length === 0) throw invalid("'images' is empty; send at least one image");
  if (images.length > limits.maxImages)
    throw invalid(`'images' has ${images.length} images, over the limit of ${limits.maxImages} per request`);
  const checked = images.map((value, i) => check(value, i, limits));
  const decodedBytes = checked.reduce((sum, c) => sum + c.decodedBytes, 0);
  if (decodedBytes > limits.maxDecodedBytes) {
    throw invalid(
      `the images decode to ${decodedBytes} bytes together (width x height x channels x bytes per sample), over the limit of ${limits.maxDecodedBytes} bytes per request; send fewer or smaller images`,
    );
  }
  return checked.map((image, i) => () => gate.run(() => decode(image, i, limits)));
}
