/** 8-bit RGB pixels, row-major with interleaved channels. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /** This image's size over the size it was sent at (below 1 when it was shrunk on load). */
  readonly scale?: number;
}

export function createImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/** Turned upside down, as cv2.rotate(img, ROTATE_180) does for crops read upside down. */
export function rotate180(img: RgbImage): RgbImage {
  const out = createImage(img.width, img.height);
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const s = i * 3;
    const d = (n - 1 - i) * 3;
    out.data[d] = img.data[s]!;
    out.data[d + 1] = img.data[s + 1]!;
    out.data[d + 2] = img.data[s + 2]!;
  }
  return out;
}
