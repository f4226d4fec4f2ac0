import { ServiceError, type ModelSpec } from '@tessera/contract';
import { ArrivalRate } from './arrival-rate.js';
import { BatchSizeController, type TuningOptions } from './batch-size-controller.js';
import { capHooks, tuneCap } from './cap-hooks.js';
import { systemClock, type Clock } from './clock.js';
import { PendingRequest, type Slice, type SliceResult } from './pending-request.js';
import { expiredEntries, insertByPriority } from './priority.js';
import { itemsIn, planBatch, type Take } from './plan.js';
import { runWithRecovery, type RecoveryCap } from './recovery.js';
import { splitOutputs } from './split.js';
import type { BatchLoad } from './throughput-tuner.js';
import { checkRequest, modelKey } from './request-check.js';
import { compatKey, stackInputs } from './stack.js';
import type { BatchRequest, Outcome, RunResult, Runner, SchedulerEvents, SchedulerOptions } from './types.js';

interface ModelQueue {
  /** Requests with items not yet handed to a batch, in arrival order. */
  entries: PendingRequest[];
  arrivals: ArrivalRate;
  /** Since when the batching rule holds the current batch open (undefined: not held). */
  heldSince?: number;
  /** How long the latest dispatched batch was held open, in ms (0: it went at once). */
  delayMs?: number;
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
  private readonly caps = new Map<string, BatchSizeController>();
  private readonly tuning: TuningOptions | false;
  private busy = false;
  /** When the device last finished a batch (undefined after a failure). */
  private lastEndedAt: number | undefined;
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
    this.tuning = opts.tuning === true ? {} : (opts.tuning ?? false);
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
    insertByPriority(queue.entries, entry);
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

  private capFor(model: ModelSpec): BatchSizeController {
    const key = modelKey(model);
    const max = Math.max(1, model.maxBatchSize);
    let cap = this.caps.get(key);
    if (!cap || cap.max !== max) {
      cap = new BatchSizeController({
        max,
        growAfter: this.growAfter,
        tuning: this.tuning,
        ...(model.latencyObjectiveMs !== undefined ? { objectiveMs: model.latencyObjectiveMs } : {}),
      });
      this.caps.set(key, cap);
    }
    return cap;
  }

  /** The cap controller's state for a model, for logs. */
  describeCap(model: ModelSpec): Record<string, number | string | boolean | undefined> {
    return this.capFor(model).describe();
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
    this.expire(now);
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
        queue.delayMs = queue.heldSince === undefined ? 0 : now - queue.heldSince;
        queue.heldSince = undefined;
        this.dispatch(queue, takes, model);
        return;
      }
      queue.heldSince ??= now;
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
    const batchSize = parts.reduce((n, p) => n + p.count, 0);
    // Full: the cap limited the batch. Backlog: its items waited behind the previous batch, so
    // the device is saturated even though the cap did not bind.
    const backToBack = parts.some((p) => p.request.waited);
    let load: BatchLoad = batchSize >= this.capFor(model).value ? 'full' : backToBack ? 'backlog' : 'light';
    const startedAt = this.clock.now();
    let result: RunResult;
    try {
      result = await this.runner.run(model, inputs);
    } catch (err) {
      this.lastEndedAt = undefined;
      throw err;
    }
    // What this batch cost the device: when batches run back to back, the time since the last
    // one ended (thread hand-off and the main thread's work between batches included: those, not
    // session.run alone, bound the items per second); otherwise its own run time.
    const endedAt = this.clock.now();
    const costMs = backToBack && this.lastEndedAt !== undefined ? endedAt - this.lastEndedAt : endedAt - startedAt;
    this.lastEndedAt = endedAt;
    // A device that ran for less than half the cycle was waiting on the rest of the worker
    // (per-job work, the queue): the cap is not what limits throughput, so it is left alone.
    if (endedAt - startedAt < 0.5 * costMs) load = 'light';
    const outputs = splitOutputs(model, result.outputs, parts.map((p) => ({ inputs: p.request.req.inputs, count: p.count })));
    const delayMs = this.queues.get(modelKey(model))?.delayMs ?? 0;
    this.emit(() => this.events.onBatch?.({
      model, size: batchSize, requests: parts.length, computeMs: result.computeMs, provider: result.provider,
      queueMs: parts.map((p) => startedAt - p.request.req.enqueuedAt), delayMs,
      requestIds: parts.map((p) => p.request.req.id), startedAt, endedAt,
    }));
    tuneCap(this.capFor(model), model, { size: batchSize, costMs, load }, (fn) => this.emit(fn), this.events);
    return outputs.map((o) => ({ outputs: o, computeMs: result.computeMs, provider: result.provider, startedAt, batchSize }));
  }

  private capHooks(model: ModelSpec): RecoveryCap {
    return capHooks(this.capFor(model), model, (fn) => this.emit(fn), this.events);
  }

  private failRequest(request: PendingRequest, error: ServiceError, cause: unknown): void {
    if (!request.fail(error)) return;
    const queue = this.queues.get(modelKey(request.req.model));
    if (queue) queue.entries = queue.entries.filter((e) => e !== request);
    this.emit(() => this.events.onFailure?.({ model: request.req.model, requestId: request.req.id, error, cause }));
  }

  /** Answers `timeout` for waiting requests past their deadline, just before a batch is planned. */
  private expire(now: number): void {
    for (const queue of this.queues.values()) {
      for (const entry of expiredEntries(queue.entries, now)) {
        this.failRequest(entry, new ServiceError('timeout', `request ${entry.req.id} passed its deadline while waiting for a batch`), undefined);
      }
    }
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
