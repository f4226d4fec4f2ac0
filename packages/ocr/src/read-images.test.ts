import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { ServiceError } from '@tessera/contract';
import { resolveLimits, type OcrLimits } from './limits.js';
import { readImages } from './read-images.js';

let png: Buffer;
let jpeg: Buffer;
before(async () => {
  const red = { create: { width: 20, height: 10, channels: 3 as const, background: { r: 255, g: 0, b: 0 } } };
  png = await sharp(red).png().toBuffer();
  jpeg = await sharp(red).jpeg({ quality: 95 }).toBuffer();
});

const b64 = (b: Buffer) => b.toString('base64');
const limits = (l: Partial<OcrLimits> = {}) => resolveLimits(l);

async function rejects(images: unknown, pattern: RegExp, l: Partial<OcrLimits> = {}): Promise<void> {
  await assert.rejects(readImages({ images }, limits(l)), (e: unknown) => {
    assert.ok(e instanceof ServiceError, `a ServiceError, got ${String(e)}`);
    assert.equal(e.code, 'invalid_input');
    assert.equal(e.status, 400);
    assert.match(e.message, pattern);
    return true;
  });
}

test('PNG, JPEG and data URLs decode to RGB', async () => {
  const [a, b, c] = await readImages({ images: [b64(png), `data:image/png;base64,${b64(png)}`, b64(jpeg)] }, limits());
  for (const img of [a!, b!, c!]) {
    assert.equal(img.width, 20);
    assert.equal(img.height, 10);
    assert.equal(img.data.length, 20 * 10 * 3);
  }
  assert.deepEqual(Array.from(a!.data.subarray(0, 3)), [255, 0, 0]);
  assert.ok(c!.data[0]! > 240 && c!.data[1]! < 15);
  // base64 split over lines and the URL-safe alphabet are accepted too
  const wrapped = b64(png).replace(/(.{60})/g, '$1\n');
  const urlSafe = png.toString('base64url');
  assert.equal((await readImages({ images: [wrapped, urlSafe] }, limits())).length, 2);
});

test('transparency is flattened onto white, grey images get three channels, EXIF orientation is applied', async () => {
  const clear = await sharp({ create: { width: 4, height: 4, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
  const grey = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 90, g: 90, b: 90 } } }).greyscale().png().toBuffer();
  const turned = await sharp({ create: { width: 20, height: 10, channels: 3, background: { r: 0, g: 0, b: 255 } } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
  const [a, b, c] = await readImages({ images: [b64(clear), b64(grey), b64(turned)] }, limits());
  assert.deepEqual(Array.from(a!.data.subarray(0, 3)), [255, 255, 255]);
  assert.equal(b!.data.length, 4 * 4 * 3);
  assert.deepEqual([c!.width, c!.height], [10, 20]);
});

test('the images field must be a non-empty array within the image count limit', async () => {
  await rejects(undefined, /'images' must be an array/);
  await rejects('abc', /'images' must be an array/);
  await rejects([], /'images' is empty/);
  await rejects([b64(png), b64(png), b64(png)], /3 images, over the limit of 2/, { maxImages: 2 });
});

test('each image is checked, and the message names its index and the problem', async () => {
  await rejects([b64(png), 42], /images\[1\] must be a base64-encoded PNG or JPEG string, got number/);
  await rejects([null], /images\[0\] .*got null/);
  await rejects(['@@@not base64@@@'], /images\[0\]: not valid base64/);
  await rejects(['abcde'], /images\[0\]: not valid base64 \(bad length\)/);
  await rejects([''], /images\[0\]: empty string/);
  await rejects(['data:image/png,abc'], /images\[0\]: data: URL is not base64-encoded/);
  await rejects([b64(Buffer.from('hello, this is text'))], /images\[0\]: not a PNG or JPEG image/);
  await rejects([b64(Buffer.from('GIF89a\x01\x00\x01\x00'))], /images\[0\]: not a PNG or JPEG image/);
});

test('truncated, empty and oversized images are refused', async () => {
  await rejects([b64(png.subarray(0, 20))], /images\[0\]: truncated PNG/);
  await rejects([b64(png), b64(png.subarray(0, Math.floor(png.length * 0.6)))], /images\[1\]: truncated or corrupt image data/);
  await rejects([b64(jpeg.subarray(0, 10))], /images\[0\]: truncated JPEG/);
  await rejects([b64(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)))], /images\[0\]: truncated or corrupt image data/);
  const empty = Buffer.from(png);
  empty.writeUInt32BE(0, 16); // IHDR width
  await rejects([b64(empty)], /images\[0\]: the image is empty \(0x10 pixels\)/);
  await rejects([b64(png)], new RegExp(`images\\[0\\]: ${png.length} bytes, over the limit of 50 bytes`), { maxImageBytes: 50 });
  await rejects([b64(png)], /images\[0\]: 20x10 = 200 pixels, over the limit of 199 pixels/, { maxImagePixels: 199 });
});

test('limits must be positive integers', () => {
  assert.throws(() => resolveLimits({ maxImages: 0 }), /maxImages must be a positive integer/);
  assert.deepEqual(resolveLimits({ maxImages: 3 }).maxImages, 3);
});
