/** Per-request bounds on what an OCR request may carry; the API passes its configured values. */
export interface OcrLimits {
  /** Images one request may carry. */
  maxImages: number;
  /** Encoded (PNG or JPEG file) bytes per image, before base64. */
  maxImageBytes: number;
  /** Decoded width x height per image. */
  maxImagePixels: number;
}

export const DEFAULT_OCR_LIMITS: Readonly<OcrLimits> = {
  maxImages: 16,
  // base64 adds a third: 4 MiB of image still fits the API's default 8 MiB body limit
  maxImageBytes: 4 * 1024 * 1024,
  // 4096 x 4096 (a 12 MP photo fits); each decoded pixel costs 3 bytes in the API process
  maxImagePixels: 4096 * 4096,
};

/** Fills the limits a caller left out with the defaults and checks they are usable. */
export function resolveLimits(limits: Partial<OcrLimits> = {}): OcrLimits {
  const resolved = { ...DEFAULT_OCR_LIMITS, ...limits };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`OCR limit ${key} must be a positive integer, got ${String(value)}`);
  }
  return resolved;
}
