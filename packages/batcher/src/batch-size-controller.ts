import { MemoryLimit } from './memory-limit.js';
import { ThroughputTuner, type BatchLoad, type TunerOptions, type TunerMove } from './throughput-tuner.js';

/** Run-time tuning of the cap; `false` keeps the fixed cap (only out-of-memory moves it). */
export type TuningOptions = Omit<TunerOptions, 'max' | 'objectiveMs'>;

export interface BatchSizeControllerOptions {
  /** The model's max_batch_size. */
  max: number;
  /** Successes before a cap shrunk by out-of-memory doubles again. */
  growAfter?: number;
  /** p99 latency objective of the model (config.json latency_objective_ms). */
  objectiveMs?: number;
  tuning?: TuningOptions | false;
}

/** Why the cap changed: out of memory, memory growth back, or the throughput tuner. */
export type CapChangeReason = 'oom' | 'grow' | TunerMove;

/**
 * The one owner of a model's batch cap on one device. Two parts propose a cap and the smaller
 * wins, so they never fight:
 *
 * - MemoryLimit: halves on out-of-memory, grows back after successes, and remembers sizes that
 *   failed repeatedly so it does not run into them again and again;
 * - ThroughputTuner (when tuning is on): the cap with the best measured items/s within the
 *   latency objective. It does not explore while memory holds the cap below its choice.
 */
export class BatchSizeController {
  readonly max: number;
  readonly memory: MemoryLimit;
  readonly tuner: ThroughputTuner | undefined;

  constructor(opts: BatchSizeControllerOptions) {
    this.max = Math.max(1, Math.floor(opts.max));
    this.memory = new MemoryLimit({
      max: this.max,
      ...(opts.growAfter !== undefined ? { growAfter: opts.growAfter } : {}),
    });
    this.tuner =
      opts.tuning === false || opts.tuning === undefined
        ? undefined
        : new ThroughputTuner({
            ...opts.tuning,
            max: this.max,
            ...(opts.objectiveMs !== undefined ? { objectiveMs: opts.objectiveMs } : {}),
          });
  }

  get value(): number {
    return Math.min(this.memory.value, this.tuner?.value ?? this.max);
  }

  /** A batch of `items` items ran; returns the reason when the cap changed. */
  onSuccess(items?: number): CapChangeReason | undefined {
    const from = this.value;
    this.memory.onSuccess(items);
    return this.value !== from ? 'grow' : undefined;
  }

  /** A batch of `items` items ran out of memory. */
  onOutOfMemory(items: number): CapChangeReason | undefined {
    const from = this.value;
    this.memory.onOutOfMemory(items);
    return this.value !== from ? 'oom' : undefined;
  }

  /**
   * The timing of a successful batch: `ms` its cycle took, `runMs` the run itself (see
   * ThroughputTuner.observe), under `load`.
   */
  observe(size: number, ms: number, load: BatchLoad, runMs = ms): CapChangeReason | undefined {
    if (!this.tuner) return undefined;
    const from = this.value;
    const move = this.tuner.observe(size, ms, load, this.memory.value, runMs);
    // A settle on the cap being tried changes no value but is a decision worth reporting.
    return move !== undefined && (this.value !== from || move === 'settle') ? move : undefined;
  }

  /** For logs: what each part wants and what the tuner has measured. */
  describe(): Record<string, number | string | boolean | undefined> {
    const fit = this.tuner?.cost.fit();
    const t = this.tuner;
    return {
      cap: this.value,
      memoryCap: this.memory.value,
      ...(Number.isFinite(this.memory.limit) ? { oomLimit: this.memory.limit, oomStrikes: this.memory.strikes } : {}),
      ...(t ? { tunedCap: t.settled, probing: t.probing, itemsPerS: round(t.itemsPerSecond(t.settled)) } : {}),
      ...(fit ? { fitPerItemMs: round(fit.perItemMs, 4), fitFixedMs: round(fit.fixedMs, 4) } : {}),
    };
  }
}

function round(v: number | undefined, digits = 1): number | undefined {
  return v === undefined ? undefined : Number(v.toFixed(digits));
}
