/**
 * Images decoded at once in this process: decoding is where an OCR request's memory peaks
 * (libvips' buffers, then the RGB page), so a replica admits a few decodes at a time, over all
 * requests, and the others wait their turn. One gate per process, shared by every pipeline.
 */
export class DecodeGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly maxConcurrent: number) {
    if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 1)
      throw new RangeError(`concurrent decodes must be a positive integer, got ${maxConcurrent}`);
  }

  async run<T>(decode: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await decode();
    } finally {
      // The slot passes straight to the next waiter, so `running` stays counted.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get active(): number {
    return this.running;
  }
}
