/**
 * Batch time as a linear function of its size, `ms ≈ perItemMs · n + fixedMs`, fitted online by
 * weighted least squares in which every older batch counts `decay` times less than the next
 * (BentoML's adaptive dispatcher uses the same model). The fit predicts the time of batch sizes
 * not measured recently, which is what a latency objective needs before trying a larger cap.
 *
 * It cannot say which size is fastest per item: with a linear model n / (a·n + b) only grows
 * with n. Devices where per-item cost rises with the batch (CPUs whose caches overflow) are
 * handled by measuring each cap (see ThroughputTuner), not by this fit.
 */
export class BatchCostModel {
  private w = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;

  /** @param decay weight kept by the past at each new batch (0.97: about the last 30 batches). */
  constructor(private readonly decay = 0.97) {}

  observe(size: number, ms: number): void {
    if (!(size > 0) || !Number.isFinite(ms) || ms < 0) return;
    const d = this.decay;
    this.w = this.w * d + 1;
    this.sx = this.sx * d + size;
    this.sy = this.sy * d + ms;
    this.sxx = this.sxx * d + size * size;
    this.sxy = this.sxy * d + size * ms;
  }

  /** The current fit, or undefined until batches of at least two different sizes were seen. */
  fit(): { perItemMs: number; fixedMs: number } | undefined {
    if (this.w === 0) return undefined;
    const den = this.w * this.sxx - this.sx * this.sx;
    // Sizes all (nearly) equal: the slope is not determined.
    if (den <= 1e-9 * this.w * this.sxx) return undefined;
    const perItemMs = (this.w * this.sxy - this.sx * this.sy) / den;
    const fixedMs = (this.sy - perItemMs * this.sx) / this.w;
    return { perItemMs, fixedMs };
  }

  /**
   * Predicted time of a batch of `size` items. Without a fit, the average batch scaled by size
   * (every item costs the same, no fixed part), which overestimates on devices that gain from
   * batching: the safe side for a latency objective.
   */
  predict(size: number): number | undefined {
    const f = this.fit();
    if (f) return Math.max(0, f.perItemMs * size + f.fixedMs);
    if (this.w === 0 || this.sx === 0) return undefined;
    return (this.sy / this.sx) * size;
  }
}
