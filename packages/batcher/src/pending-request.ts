import { ServiceError, type Tensor } from '@tessera/contract';
import type { RowShape } from './padding.js';
import type { Plannable } from './plan.js';
import { assembleOutputs } from './split.js';
import type { BatchRequest, Outcome } from './types.js';

/** What one run produced for one slice of a request. */
export interface SliceResult {
  outputs: Tensor[];
  computeMs: number;
  provider: string;
  /** Clock time the run started. */
  startedAt: number;
  /** Items in that run. */
  batchSize: number;
}

/** Rows `[offset, offset + count)` of a request, as placed in one batch. */
export interface Slice {
  request: PendingRequest;
  offset: number;
  count: number;
}

interface Piece extends SliceResult {
  offset: number;
  count: number;
}

/** A submitted request from arrival until its outcome is delivered. */
export class PendingRequest implements Plannable {
  /** Items handed to batches so far. */
  dispatched = 0;
  settled = false;
  readonly promise: Promise<Outcome>;
  private completed = 0;
  private readonly pieces: Piece[] = [];
  private resolve!: (outcome: Outcome) => void;

  constructor(
    readonly req: BatchRequest,
    readonly key: string,
    /** Arrival order across all models. */
    readonly seq: number,
    /** Clock time the scheduler received it. */
    readonly arrivedAt: number,
    /** Whether the device was busy, or has run a batch, since it arrived (see Scheduler). */
    public waited: boolean,
    /** Its rows' shape, when its model pads (see PaddingPolicy). */
    readonly rows?: RowShape,
  ) {
    this.promise = new Promise((resolve) => (this.resolve = resolve));
  }

  get remaining(): number {
    return this.settled ? 0 : this.req.items - this.dispatched;
  }

  /** Records a finished slice; delivers the outcome once every item is back. */
  addResult(slice: Slice, result: SliceResult): void {
    if (this.settled) return;
    this.pieces.push({ ...result, offset: slice.offset, count: slice.count });
    this.completed += slice.count;
    if (this.completed < this.req.items) return;
    let outputs: Tensor[];
    try {
      this.pieces.sort((a, b) => a.offset - b.offset);
      outputs = assembleOutputs(
        this.req.model,
        this.pieces.map((p) => p.outputs),
        this.req.outputs,
      );
    } catch (err) {
      const error = err instanceof ServiceError ? err : new ServiceError('internal', String(err), { cause: err });
      this.fail(error);
      return;
    }
    this.settled = true;
    this.resolve({ ok: true, outputs, timing: this.timing(), provider: this.last().provider });
  }

  /** Delivers a failure; returns false when the outcome was already delivered. */
  fail(error: ServiceError): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.resolve({ ok: false, error });
    return true;
  }

  /**
   * For a request run in several slices, queueMs is all the time it spent not computing: enqueue
   * to the start of its last batch, less the compute of its earlier slices. For one slice this
   * is simply batch start minus enqueue time.
   */
  private timing(): { queueMs: number; computeMs: number; batchSize: number } {
    const last = this.last();
    const computeMs = this.pieces.reduce((n, p) => n + p.computeMs, 0);
    const queueMs = Math.max(0, last.startedAt - this.req.enqueuedAt - (computeMs - last.computeMs));
    return { queueMs, computeMs, batchSize: last.batchSize };
  }

  private last(): Piece {
    let last = this.pieces[0]!;
    for (const p of this.pieces) if (p.startedAt >= last.startedAt) last = p;
    return last;
  }
}
