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
/** Below this weighted variance of the sizes (items²) the slope is not determined. */
const MIN_SIZE_VARIANCE = 0.1;

export class BatchCostModel {
  private w = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;
  /**
   * The last fit the data determined. A run of batches all of one size (one client for a while)
   * says nothing new about the slope, so it does not erase what larger batches measured before:
   * without it, an objective would be judged on size-1 times scaled up as if nothing were fixed
   * per batch, and a model whose time is mostly fixed would be capped far below what fits.
   */
  private last: { perItemMs: number; fixedMs: number } | undefined;

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
    this.last = this.solve() ?? this.last;
  }

  /**
   * The current fit; while recent sizes are all (nearly) equal, the last one they determined;
   * undefined until batches of at least two different sizes were seen.
   */
  fit(): { perItemMs: number; fixedMs: number } | undefined {
    return this.last;
  }

  private solve(): { perItemMs: number; fixedMs: number } | undefined {
    const den = this.w * this.sxx - this.sx * this.sx;
    // Sizes all (nearly) equal, their weighted variance under a tenth of an item squared: the
    // slope is not determined (and what the sums still say is rounding error).
    if (den < MIN_SIZE_VARIANCE * this.w * this.w) return undefined;
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
