import { loadSharp } from './sharp-lazy.js';
import { ServiceError } from '@tessera/contract';
import { decodeBase64Image } from './base64-image.js';
import { readImageHeader } from './image-header.js';
import type { OcrLimits } from './limits.js';
import type { RgbImage } from './rgb-image.js';

const invalid = (message: string) => new ServiceError('invalid_input', message);

interface Checked {
  bytes: Buffer;
  width: number;
  height: number;
}

function check(value: unknown, index: number, limits: OcrLimits): Checked {
  const at = `images[${index}]`;
  if (typeof value !== 'string') {
    throw invalid(`${at} must be a base64-encoded PNG or JPEG string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const encoded = decodeBase64Image(value, limits.maxImageBytes);
  if (!encoded.ok) throw invalid(`${at}: ${encoded.problem}`);
  const header = readImageHeader(encoded.bytes);
  if (!header.ok) throw invalid(`${at}: ${header.problem}`);
  const { width, height } = header;
  if (width === 0 || height === 0) throw invalid(`${at}: the image is empty (${width}x${height} pixels)`);
  if (width * height > limits.maxImagePixels) {
    throw invalid(`${at}: ${width}x${height} = ${width * height} pixels, over the limit of ${limits.maxImagePixels} pixels per image`);
  }
  return { bytes: encoded.bytes, width, height };
}

async function decode(image: Checked, index: number, limits: OcrLimits): Promise<RgbImage> {
  try {
    const { data, info } = await (await loadSharp())(image.bytes, { limitInputPixels: limits.maxImagePixels, failOn: 'warning' })
      // cv2.imread honours EXIF orientation, and PaddleOCR flattens transparency onto white.
      .autoOrient()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    // The header was readable, so a decoder failure means missing or damaged pixel data.
    const reason = ((err as Error).message ?? String(err)).split('\n')[0];
    throw invalid(`images[${index}]: truncated or corrupt image data (${reason})`);
  }
}

/**
 * Validates `body.images` (base64 PNG or JPEG strings, or base64 data: URLs) against the
 * limits and decodes them to RGB. Every image is checked before any is decoded, so a bad
 * item late in the list costs no decoding work.
 */
export async function readImages(body: Record<string, unknown>, limits: OcrLimits): Promise<RgbImage[]> {
  const images = body.images;
  if (!Array.isArray(images)) throw invalid("'images' must be an array of base64-encoded PNG or JPEG strings");
  if (images.length === 0) throw invalid("'images' is empty; send at least one image");
  if (images.length > limits.maxImages) throw invalid(`'images' has ${images.length} images, over the limit of ${limits.maxImages} per request`);
  const checked = images.map((value, i) => check(value, i, limits));
  return Promise.all(checked.map((image, i) => decode(image, i, limits)));
}
