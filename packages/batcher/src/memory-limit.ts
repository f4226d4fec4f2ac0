/**
 * The out-of-memory side of a model's batch cap, in items.
 *
 * Multiplicative decrease: an OOM halves the cap, measured from the failed
 * batch's size when that was below the cap. After `growAfter` consecutive successes the cap
 * doubles, never above `max`.
 *
 * What it adds is a memory of the failure. `limit` is the smallest batch that ran out of memory
 * and has not run successfully since. After a first failure the cap grows back exactly as
 * before (doubling every `growAfter` successes): the failure may have been transient. If a batch
 * of `limit` items or more fails again (a strike), the cap stops jumping onto it: it approaches
 * `limit - 1` by halving the distance, and tries `limit` itself only after
 * `growAfter × 2^strikes` successes. So a device whose real limit is 7 settles at 7 after a few
 * OOMs instead of running 8 into an OOM every `growAfter` batches, while the ceiling still
 * decays (slowly) in case memory was freed. A batch of `limit` items or more that succeeds
 * clears the memory.
 */
export class MemoryLimit {
  readonly max: number;
  readonly growAfter: number;
  /** Strikes stop doubling the wait here: growAfter × 2^maxStrikes successes at most. */
  readonly maxStrikes: number;
  private current: number;
  private streak = 0;
  private failedAt = Infinity;
  private strikeCount = 0;

  constructor(opts: { max: number; growAfter?: number; initial?: number; maxStrikes?: number }) {
    this.max = Math.max(1, Math.floor(opts.max));
    this.growAfter = Math.max(1, Math.floor(opts.growAfter ?? 20));
    this.maxStrikes = Math.max(0, Math.floor(opts.maxStrikes ?? 6));
    this.current = clamp(opts.initial ?? this.max, this.max);
  }

  get value(): number {
    return this.current;
  }

  /** Smallest batch size known to run out of memory (Infinity when none). */
  get limit(): number {
    return this.failedAt;
  }

  /** How many times in a row growing back onto `limit` has failed. */
  get strikes(): number {
    return this.strikeCount;
  }

  /** Successes needed before the cap next grows. */
  get nextGrowthAfter(): number {
    const probingLimit = this.strikeCount > 0 && this.current >= this.failedAt - 1;
    return probingLimit ? this.growAfter * 2 ** this.strikeCount : this.growAfter;
  }

  /** Records a successful batch of `items` items (the cap's value when unknown); returns the cap. */
  onSuccess(items = this.current): number {
    if (items >= this.failedAt) {
      // This size fits now: whatever caused the failure is gone.
      this.failedAt = Infinity;
      this.strikeCount = 0;
    }
    if (this.current >= this.max) {
      this.streak = 0;
      return this.current;
    }
    this.streak++;
    if (this.streak >= this.nextGrowthAfter) {
      this.streak = 0;
      this.current = this.grown();
    }
    return this.current;
  }

  /** Records an out-of-memory failure of a batch of `items` items; returns the new cap. */
  onOutOfMemory(items: number): number {
    const size = Math.max(1, Math.floor(items));
    // A failure at or above the known limit is a repeat; a smaller one only moves the limit
    // down (strikes are kept: memory is tighter than thought, not freed).
    if (size >= this.failedAt) this.strikeCount = Math.min(this.maxStrikes, this.strikeCount + 1);
    else this.failedAt = size;
    this.streak = 0;
    this.current = clamp(Math.floor(Math.min(this.current, size) / 2), this.max);
    return this.current;
  }

  private grown(): number {
    const doubled = clamp(this.current * 2, this.max);
    // A size that failed once may have failed for a passing reason: grow as if it had not.
    if (doubled < this.failedAt || this.strikeCount === 0) return doubled;
    const below = this.failedAt - 1;
    if (this.current < below) return Math.min(doubled, this.current + Math.ceil((below - this.current) / 2));
    // At limit - 1 after the backed-off wait: try the failing size again.
    return clamp(this.failedAt, this.max);
  }
}

function clamp(value: number, max: number): number {
  return Math.min(max, Math.max(1, Math.floor(value)));
}
