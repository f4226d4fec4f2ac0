/**
 * The plain halve-and-double cap: the baseline the tests drive recovery with and measure the
 * scheduler's MemoryLimit against (which adds a remembered out-of-memory ceiling). Batch-size
 * cap for one model on one device, in items.
 *
 * Multiplicative decrease on out-of-memory: the cap halves, measured from the size of the batch
 * that failed when that was below the cap, so every retry is strictly smaller than the failure.
 * After `growAfter` consecutive successful batches it doubles back, never above `max`. Growth
 * probes the device again; an OOM there costs one retried batch, not a failed request.
 */
export class CapController {
  readonly max: number;
  readonly growAfter: number;
  private current: number;
  private streak = 0;

  constructor(opts: { max: number; growAfter?: number; initial?: number }) {
    this.max = Math.max(1, Math.floor(opts.max));
    this.growAfter = Math.max(1, Math.floor(opts.growAfter ?? 20));
    this.current = clamp(opts.initial ?? this.max, this.max);
  }

  get value(): number {
    return this.current;
  }

  /** Records a successful batch; returns the cap afterwards. */
  onSuccess(): number {
    if (this.current >= this.max) {
      this.streak = 0;
      return this.current;
    }
    this.streak++;
    if (this.streak >= this.growAfter) {
      this.streak = 0;
      this.current = clamp(this.current * 2, this.max);
    }
    return this.current;
  }

  /** Records an out-of-memory failure of a batch of `items` items; returns the new cap. */
  onOutOfMemory(items: number): number {
    this.streak = 0;
    this.current = clamp(Math.floor(Math.min(this.current, items) / 2), this.max);
    return this.current;
  }
}

function clamp(value: number, max: number): number {
  return Math.min(max, Math.max(1, Math.floor(value)));
}
