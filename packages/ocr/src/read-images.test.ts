import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { ServiceError } from '@tessera/contract';
import { DecodeGate } from './decode-gate.js';
import { readImageHeader } from './image-header.js';
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
  const clear = await sharp({
    create: { width: 4, height: 4, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .png()
    .toBuffer();
  const grey = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .greyscale()
    .png()
    .toBuffer();
  const turned = await sharp({ create: { width: 20, height: 10, channels: 3, background: { r: 0, g: 0, b: 255 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
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
  await rejects(
    [b64(png), b64(png.subarray(0, Math.floor(png.length * 0.6)))],
    /images\[1\]: truncated or corrupt image data/,
  );
  await rejects([b64(jpeg.subarray(0, 10))], /images\[0\]: truncated JPEG/);
  await rejects([b64(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)))], /images\[0\]: truncated or corrupt image data/);
  const empty = Buffer.from(png);
  empty.writeUInt32BE(0, 16); // IHDR width
  await rejects([b64(empty)], /images\[0\]: the image is empty \(0x10 pixels\)/);
  await rejects([b64(png)], new RegExp(`images\\[0\\]: ${png.length} bytes, over the limit of 50 bytes`), {
    maxImageBytes: 50,
  });
  await rejects([b64(png)], /images\[0\]: 20x10 = 200 pixels, over the limit of 199 pixels/, { maxImagePixels: 199 });
});

test('limits must be positive integers', () => {
  assert.throws(() => resolveLimits({ maxImages: 0 }), /maxImages must be a positive integer/);
  assert.deepEqual(resolveLimits({ maxImages: 3 }).maxImages, 3);
});

test('larger images are shrunk on load to the working size, whatever their orientation; boxes scale back', async () => {
  const photo = await sharp({
    create: { width: 3000, height: 2000, channels: 3, background: { r: 200, g: 200, b: 200 } },
  })
    .jpeg()
    .toBuffer();
  const turned = await sharp({
    create: { width: 3000, height: 2000, channels: 3, background: { r: 200, g: 200, b: 200 } },
  })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const [a, b] = await readImages({ images: [b64(photo), b64(turned)] }, limits({ workingPixels: 1_000_000 }));
  for (const img of [a!, b!]) {
    assert.ok(img.width * img.height <= 1_000_000, `${img.width}x${img.height} is within the working size`);
    assert.ok(img.width * img.height > 950_000, `and not much below it: ${img.width}x${img.height}`);
    assert.equal(img.data.length, img.width * img.height * 3);
    assert.ok(Math.abs(img.scale! - Math.sqrt(1 / 6)) < 0.01, `scale ${img.scale}`);
  }
  assert.ok(a!.width > a!.height && b!.height > b!.width, 'orientation kept, then applied');
  const [small] = await readImages({ images: [b64(png)] }, limits({ workingPixels: 1_000_000 }));
  assert.equal(small!.scale, undefined, 'small images are read as they are');
});

test('decoded bytes are bounded per request, bit depth and channels included', async () => {
  // 16-bit RGBA: 8 bytes per pixel as decoded, though the file is tiny.
  const deep = await sharp({
    create: { width: 256, height: 256, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 1 } },
  })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
  const header = readImageHeader(deep);
  assert.ok(header.ok && header.pixelBytes === 8, `16-bit RGBA is 8 bytes a pixel: ${JSON.stringify(header)}`);
  assert.equal(readImageHeader(jpeg).ok && (readImageHeader(jpeg) as { pixelBytes: number }).pixelBytes, 3);
  const limit = 256 * 256 * 8 * 2;
  assert.equal((await readImages({ images: [b64(deep), b64(deep)] }, limits({ maxDecodedBytes: limit }))).length, 2);
  await rejects(
    [b64(deep), b64(deep), b64(deep)],
    new RegExp(`decode to ${256 * 256 * 8 * 3} bytes together .*over the limit of ${limit} bytes per request`),
    { maxDecodedBytes: limit },
  );
});

test('a request decodes its images one at a time, and the gate bounds decodes across requests', async () => {
  const gate = new DecodeGate(2);
  let peak = 0;
  const watch = setInterval(() => (peak = Math.max(peak, gate.active)), 0);
  const images = Array.from({ length: 4 }, () => b64(png));
  await Promise.all(Array.from({ length: 4 }, () => readImages({ images }, limits(), gate)));
  clearInterval(watch);
  assert.ok(peak <= 2, `at most two decodes at once, saw ${peak}`);
  const one = new DecodeGate(1);
  const order: string[] = [];
  await Promise.all(
    ['a', 'b', 'c'].map((name) =>
      one.run(async () => {
        order.push(`${name}+`);
        await new Promise((r) => setImmediate(r));
        order.push(`${name}-`);
      }),
    ),
  );
  assert.deepEqual(order, ['a+', 'a-', 'b+', 'b-', 'c+', 'c-'], 'never two at once');
});
