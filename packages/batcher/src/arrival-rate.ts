/**
 * Exponentially weighted moving average of the gaps between arrivals, used to guess whether
 * holding a batch open is likely to pay off.
 */
export class ArrivalRate {
  private last: number | undefined;
  private gap: number | undefined;

  /**
   * @param alpha weight of the newest gap.
   * @param maxGapMs gaps are clipped to this: after an idle spell any gap well past the batching
   *   window means the same thing ("nothing is coming"), and clipping lets a new burst be
   *   recognised after a few arrivals instead of dozens.
   */
  constructor(
    private readonly alpha = 0.3,
    private readonly maxGapMs = Infinity,
  ) {}

  observe(now: number): void {
    if (this.last !== undefined) {
      const gap = Math.min(this.maxGapMs, Math.max(0, now - this.last));
      this.gap = this.gap === undefined ? gap : this.alpha * gap + (1 - this.alpha) * this.gap;
    }
    this.last = now;
  }

  /** Estimated gap between arrivals, or undefined before the second arrival. */
  get meanGapMs(): number | undefined {
    return this.gap;
  }

  /** Whether the next arrival is expected strictly before `time`. */
  expectsBefore(time: number): boolean {
    return this.last !== undefined && this.gap !== undefined && this.last + this.gap < time;
  }
}
