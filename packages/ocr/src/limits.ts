/** Per-request bounds on what an OCR request may carry; the API passes its configured values. */
export interface OcrLimits {
  /** Images one request may carry. */
  maxImages: number;
  /** Encoded (PNG or JPEG file) bytes per image, before base64. */
  maxImageBytes: number;
  /** Hard cap on width x height per image: larger images are refused, smaller ones read. */
  maxImagePixels: number;
  /** Pixels of an image as it is read: larger ones are shrunk while decoding to this. */
  workingPixels: number;
  /**
   * Decoded bytes of one request's images together, as the decoder meets them (width x height
   * x channels x bytes per sample, before shrinking): a bound on the decoding work one request
   * may ask for, whatever its images' compression.
   */
  maxDecodedBytes: number;
  /** Text boxes one page may have (each costs a classification and a recognition call). */
  maxBoxesPerPage: number;
}

export const DEFAULT_OCR_LIMITS: Readonly<OcrLimits> = {
  maxImages: 16,
  // base64 adds a third: 4 MiB of image still fits the API's default 8 MiB body limit
  maxImageBytes: 4 * 1024 * 1024,
  // a 50 MP camera's photo is still read (shrunk on load), a decompression bomb is not
  maxImagePixels: 50_000_000,
  // an A4 page at 200 dpi (1654 x 2339) is read as it is; each pixel read costs 3 bytes
  workingPixels: 2048 * 2048,
  // eight 12 MP photos, or eight 2048 x 2048 16-bit RGBA PNGs
  maxDecodedBytes: 400 * 1024 * 1024,
  maxBoxesPerPage: 200,
};

/** Fills the limits a caller left out with the defaults and checks they are usable. */
export function resolveLimits(limits: Partial<OcrLimits> = {}): OcrLimits {
  const resolved = { ...DEFAULT_OCR_LIMITS, ...limits };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`OCR limit ${key} must be a positive integer, got ${String(value)}`);
  }
  return resolved;
}
