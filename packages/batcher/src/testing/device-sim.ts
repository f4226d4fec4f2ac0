import type { BatchSizeController } from '../batch-size-controller.js';

/** A fake device: how long a batch of n items takes, and whether it runs out of memory. */
export interface FakeDevice {
  ms(n: number): number;
  oom?(n: number): boolean;
}

export interface SimTrace {
  /** Batch size of every run, OOMs included. */
  sizes: number[];
  ooms: number;
  /** Cap after every run. */
  caps: number[];
}

/**
 * Saturated load against a controller: every batch is as large as the cap allows (full), as
 * when clients keep more items waiting than any cap. Deterministic: no clock, no randomness.
 */
export function saturate(ctl: BatchSizeController, device: FakeDevice, batches: number): SimTrace {
  const trace: SimTrace = { sizes: [], ooms: 0, caps: [] };
  for (let i = 0; i < batches; i++) {
    const n = ctl.value;
    trace.sizes.push(n);
    if (device.oom?.(n)) {
      trace.ooms++;
      ctl.onOutOfMemory(n);
    } else {
      ctl.observe(n, device.ms(n), 'full');
      ctl.onSuccess(n);
    }
    trace.caps.push(ctl.value);
  }
  return trace;
}

/** How often each value occurs in `xs[from:]`, as a fraction. */
export function share(xs: readonly number[], value: number, from = 0): number {
  const tail = xs.slice(from);
  return tail.filter((x) => x === value).length / Math.max(1, tail.length);
}

/**
 * PP-OCRv4 recognition on 2 CPU cores, shaped like the measurement: the same items/s from 1 to
 * 4 items, then about 10 % fewer at every doubling (~60 items/s at batch 1, ~42 at 64).
 */
export const cpuLike: FakeDevice = { ms: (n) => n * 16.7 * (1 + 0.11 * Math.max(0, Math.log2(n) - 2)) };

/** A GPU: a large fixed cost per batch, little per item; batch 64 is many times faster. */
export const gpuLike: FakeDevice = { ms: (n) => 20 + 0.1 * n };

/** Per-item cost lowest at 16: fixed overhead amortised, then caches overflow. */
export const sweetSpot: FakeDevice = { ms: (n) => 5 + n * (0.2 + 0.0005 * n * n) };
