import { ServiceError, type ModelSpec } from '@tessera/contract';
import { ArrivalRate } from './arrival-rate.js';
import { CapController } from './cap-controller.js';
import { systemClock, type Clock } from './clock.js';
import { PendingRequest, type Slice, type SliceResult } from './pending-request.js';
import { itemsIn, planBatch, type Take } from './plan.js';
import { runWithRecovery, type RecoveryCap } from './recovery.js';
import { splitOutputs } from './split.js';
import { checkRequest, modelKey } from './request-check.js';
import { compatKey, stackInputs } from './stack.js';
import type { BatchRequest, Outcome, Runner, SchedulerEvents, SchedulerOptions } from './types.js';

interface ModelQueue {
  /** Requests with items not yet handed to a batch, in arrival order. */
  entries: PendingRequest[];
  arrivals: ArrivalRate;
}

/**
 * Dynamic batching in front of one device shared by all models: at most one `runner.run` at a
 * time. `submit` never rejects; every request gets exactly one outcome.
 *
 * When the device is free, the model whose oldest waiting request is oldest goes first, unless
 * its batch is being held open (see `holdUntil`). Batches are planned by `planBatch` under the
 * model's current cap, run through `runWithRecovery`, and answered per request.
 */
export class Scheduler {
  private readonly runner: Runner;
  private readonly clock: Clock;
  private readonly isOutOfMemory: (err: unknown) => boolean;
  private readonly classifyError: (err: unknown) => ServiceError;
  private readonly growAfter: number;
  private readonly events: SchedulerEvents;
  private readonly queues = new Map<string, ModelQueue>();
  private readonly caps = new Map<string, CapController>();
  private busy = false;
  private seq = 0;
  private pumpQueued = false;
  private timer: unknown;
  private draining = false;
  private drainWaiters: (() => void)[] = [];

  constructor(opts: SchedulerOptions) {
    this.runner = opts.runner;
    this.clock = opts.clock ?? systemClock;
    this.isOutOfMemory = (err) => opts.isOutOfMemory(err);
    this.classifyError = (err) => opts.classifyError(err);
    this.growAfter = opts.growAfter ?? 20;
    this.events = opts.events ?? {};
  }

  submit(req: BatchRequest): Promise<Outcome> {
    if (this.draining) {
      return Promise.resolve({ ok: false, error: new ServiceError('not_ready', 'worker is shutting down') });
    }
    const invalid = checkRequest(req);
    if (invalid) return Promise.resolve({ ok: false, error: invalid });
    const now = this.clock.now();
    const queue = this.queueFor(req.model);
    queue.arrivals.observe(now);
    const entry = new PendingRequest(req, compatKey(req.model, req.inputs), this.seq++, now, this.busy);
    queue.entries.push(entry);
    this.schedulePump();
    return entry.promise;
  }

  /** Current batch cap, in items, for the model's name and version. */
  cap(model: ModelSpec): number {
    return this.capFor(model).value;
  }

  /** Items waiting for a batch (not counting the batch on the device). */
  pending(): number {
    let n = 0;
    for (const q of this.queues.values()) for (const e of q.entries) n += e.remaining;
    return n;
  }

  /**
   * Stops accepting work: later submits answer `not_ready`; requests already submitted still
   * run (held batches go at once). Resolves when nothing is waiting or running.
   */
  drain(): Promise<void> {
    this.draining = true;
    const done = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.schedulePump();
    return done;
  }

  private queueFor(model: ModelSpec): ModelQueue {
    const key = modelKey(model);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { entries: [], arrivals: new ArrivalRate(0.3, 10 * Math.max(1, model.maxQueueDelayMs)) };
      this.queues.set(key, queue);
    }
    return queue;
  }

  private capFor(model: ModelSpec): CapController {
    const key = modelKey(model);
    const max = Math.max(1, model.maxBatchSize);
    let cap = this.caps.get(key);
    if (!cap || cap.max !== max) {
      cap = new CapController({ max, growAfter: this.growAfter });
      this.caps.set(key, cap);
    }
    return cap;
  }

  // Deferred by a microtask so that requests submitted in the same tick share a batch.
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy) return;
    this.disarm();
    const now = this.clock.now();
    const ready = [...this.queues.values()]
      .filter((q) => q.entries.length > 0)
      .sort((a, b) => a.entries[0]!.seq - b.entries[0]!.seq);
    let wake = Infinity;
    for (const queue of ready) {
      const model = queue.entries[0]!.req.model;
      const cap = this.capFor(model).value;
      const takes = planBatch(queue.entries, cap);
      const hold = this.holdUntil(queue, itemsIn(takes), cap, now);
      if (hold === undefined) {
        this.dispatch(queue, takes, model);
        return;
      }
      wake = Math.min(wake, hold);
    }
    if (wake < Infinity) this.timer = this.clock.setTimeout(() => this.pump(), wake - now);
    this.checkDrained();
  }

  /**
   * The batching rule. A batch goes as soon as the device is free, except that it is held open
   * (returning the time to look again) while all of these hold:
   * - it is below the cap (a full batch never waits);
   * - none of its requests arrived while the device was busy or has waited behind a batch since
   *   (those have had their window: the next batch takes whatever accumulated, up to the cap);
   * - less than `maxQueueDelayMs` has passed since its oldest request arrived (0 never holds);
   * - the moving average of inter-arrival gaps expects another request for this model before
   *   that window closes. A lone request after a quiet spell therefore runs without waiting.
   * Held batches still go at once when draining.
   */
  private holdUntil(queue: ModelQueue, planned: number, cap: number, now: number): number | undefined {
    const seed = queue.entries[0]!;
    if (this.draining || planned >= cap || queue.entries.some((e) => e.waited)) return undefined;
    const deadline = seed.arrivedAt + seed.req.model.maxQueueDelayMs;
    if (now >= deadline || !queue.arrivals.expectsBefore(deadline)) return undefined;
    return deadline;
  }

  private dispatch(queue: ModelQueue, takes: readonly Take[], model: ModelSpec): void {
    const slices: Slice[] = takes.map((t) => {
      const request = queue.entries[t.index]!;
      const slice = { request, offset: request.dispatched, count: t.count };
      request.dispatched += t.count;
      return slice;
    });
    queue.entries = queue.entries.filter((e) => e.remaining > 0);
    this.busy = true;
    // Whatever waits now has waited behind this batch.
    for (const q of this.queues.values()) for (const e of q.entries) e.waited = true;
    void this.execute(model, slices)
      .catch((err: unknown) => {
        const error = new ServiceError('internal', `batch scheduling failed: ${String(err)}`, { cause: err });
        for (const s of slices) this.failRequest(s.request, error, err);
      })
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }

  private async execute(model: ModelSpec, slices: Slice[]): Promise<void> {
    await runWithRecovery<Slice, SliceResult>(slices, {
      run: (parts) => this.runOnce(model, parts),
      reset: () => this.runner.reset(model),
      isOutOfMemory: this.isOutOfMemory,
      classifyError: this.classifyError,
      cap: this.capHooks(model),
      items: (s) => s.count,
      split: (s, n) => [{ ...s, count: n }, { request: s.request, offset: s.offset + n, count: s.count - n }],
      abandoned: (s) => s.request.settled,
      onSettled: (o) => (o.ok ? o.part.request.addResult(o.part, o.result) : this.failRequest(o.part.request, o.error, o.cause)),
      label: `model '${model.name}' version ${model.version}`,
    });
  }

  /** Exactly one `runner.run`: stack, run, split. */
  private async runOnce(model: ModelSpec, parts: readonly Slice[]): Promise<SliceResult[]> {
    const inputs = stackInputs(model, parts.map((p) => ({ inputs: p.request.req.inputs, offset: p.offset, count: p.count })));
    const startedAt = this.clock.now();
    const result = await this.runner.run(model, inputs);
    const batchSize = parts.reduce((n, p) => n + p.count, 0);
    const outputs = splitOutputs(model, result.outputs, parts.map((p) => ({ inputs: p.request.req.inputs, count: p.count })));
    this.emit(() => this.events.onBatch?.({
      model, size: batchSize, requests: parts.length, computeMs: result.computeMs, provider: result.provider,
      queueMs: parts.map((p) => startedAt - p.request.req.enqueuedAt),
    }));
    return outputs.map((o) => ({ outputs: o, computeMs: result.computeMs, provider: result.provider, startedAt, batchSize }));
  }

  private capHooks(model: ModelSpec): RecoveryCap {
    const ctl = this.capFor(model);
    const changed = (from: number): void => {
      if (ctl.value !== from) this.emit(() => this.events.onCapChange?.({ model, cap: ctl.value }));
    };
    return {
      get value() {
        return ctl.value;
      },
      onSuccess: () => {
        const from = ctl.value;
        ctl.onSuccess();
        changed(from);
      },
      onOutOfMemory: (items) => {
        const from = ctl.value;
        ctl.onOutOfMemory(items);
        this.emit(() => this.events.onOom?.({ model, from, to: ctl.value, items }));
        changed(from);
      },
    };
  }

  private failRequest(request: PendingRequest, error: ServiceError, cause: unknown): void {
    if (!request.fail(error)) return;
    const queue = this.queues.get(modelKey(request.req.model));
    if (queue) queue.entries = queue.entries.filter((e) => e !== request);
    this.emit(() => this.events.onFailure?.({ model: request.req.model, requestId: request.req.id, error, cause }));
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private checkDrained(): void {
    if (!this.draining || this.busy || this.pending() > 0) return;
    this.disarm();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch {
      // Metrics hooks must not break batching.
    }
  }
}
