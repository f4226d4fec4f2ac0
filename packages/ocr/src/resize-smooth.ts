import { loadSharp } from './sharp-lazy.js';
import type { RgbImage } from './rgb-image.js';

/**
 * Scaled to `height` with the aspect ratio kept, as @gutenye/ocr scales line images for the
 * recogniser: sharp's resize({ height, fit: 'contain' }), Lanczos-3 in libvips (off the event
 * loop), width chosen by sharp. Lines that would come out wider than `maxWidth` are squeezed
 * to it instead (PaddleX bounds recogniser input the same way; the reference does not).
 * PaddleOCR resizes with bilinear interpolation to ceil(height * aspect) instead, which blurs
 * the gaps between words of upscaled crops: the recogniser then drops more spaces.
 */
export async function resizeToHeight(img: RgbImage, height: number, maxWidth: number): Promise<RgbImage> {
  if (img.height === height && img.width <= maxWidth) return img;
  const input = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const squeeze = (img.width * height) / img.height > maxWidth + 0.5;
  const { data, info } = await (
    await loadSharp()
  )(input, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(squeeze ? { width: maxWidth, height, fit: 'fill' } : { height, fit: 'contain' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
