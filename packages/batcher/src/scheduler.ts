import { modelKey, ServiceError, type ModelSpec } from '@tessera/contract';
import { ArrivalRate } from './arrival-rate.js';
import { BatchSizeController, type TuningOptions } from './batch-size-controller.js';
import { capHooks, tuneCap } from './cap-hooks.js';
import { systemClock, type Clock } from './clock.js';
import { PendingRequest, type Slice, type SliceResult } from './pending-request.js';
import { expiredEntries, insertByPriority } from './priority.js';
import { itemsIn, planBatch, type Take } from './plan.js';
import { runWithRecovery, type RecoveryCap } from './recovery.js';
import { splitOutputs } from './split.js';
import { observedLoad, type BatchLoad } from './throughput-tuner.js';
import { checkRequest } from './request-check.js';
import { DEFAULT_PADDING, type PaddingPolicy } from './padding.js';
import { compatKey, rowShape, stackInputs } from './stack.js';
import { crossModelOrder, DeviceShare, urgencyOf, type Contender } from './cross-model.js';
import { Lanes, SINGLE_LANE } from './lanes.js';
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
 * Dynamic batching in front of each model's instances: one `runner.run` per batch per instance,
 * instances of all models running at the same time within the CPU thread budget (`Lanes`;
 * without options: one run at a time across all models). `submit` never rejects; every request
 * gets exactly one outcome.
 *
 * Whenever an instance and threads are free, model queues are tried in `crossModelOrder`
 * (priority, fair share, earliest deadline, arrival); a queue whose batch is being held open
 * (see `holdUntil`) lets the next one go. Batches are planned by `planBatch` under the
 * instance's current cap, run through `runWithRecovery`, and answered per request.
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
  private readonly padding: PaddingPolicy;
  private readonly lanes: Lanes;
  private readonly share: DeviceShare;
  /** When each instance last finished a batch (absent after a failure). */
  private readonly lastEndedAt = new Map<string, number>();
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
    this.padding = { ...DEFAULT_PADDING, ...opts.padding };
    this.lanes = new Lanes(opts.instances ?? (() => SINGLE_LANE), opts.threadBudget ?? 1);
    this.share = new DeviceShare();
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
    this.lanes.arrived(req.model, now);
    const entry = new PendingRequest(
      req,
      compatKey(req.model, req.inputs),
      this.seq++,
      now,
      this.lanes.free(req.model, now) === undefined,
      rowShape(req.model, req.inputs),
    );
    insertByPriority(queue.entries, entry);
    this.schedulePump();
    return entry.promise;
  }

  /** Current batch cap, in items, of one instance of the model's name and version. */
  cap(model: ModelSpec, instance = 0): number {
    return this.capFor(model, instance).value;
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

  private capFor(model: ModelSpec, instance: number): BatchSizeController {
    // Per instance: each tunes to what it measures, and an out-of-memory halves only its own.
    const key = `${modelKey(model)}#${instance}`;
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
  describeCap(model: ModelSpec, instance = 0): Record<string, number | string | boolean | undefined> {
    return this.capFor(model, instance).describe();
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
    this.disarm();
    const now = this.clock.now();
    this.expire(now);
    let wake = Infinity;
    // Each pass starts at most one batch, then looks again: the batch took an instance and threads.
    for (let started = true; started;) {
      started = false;
      for (const { queue } of this.contenders(now)) {
        const model = queue.entries[0]!.req.model;
        const instance = this.lanes.free(model, now)!;
        const cap = this.capFor(model, instance).value;
        const takes = planBatch(queue.entries, cap, this.padding);
        const hold = this.holdUntil(queue, itemsIn(takes), cap, now);
        if (hold === undefined) {
          queue.delayMs = queue.heldSince === undefined ? 0 : now - queue.heldSince;
          queue.heldSince = undefined;
          this.dispatch(queue, takes, model, instance);
          started = true;
          break;
        }
        queue.heldSince ??= now;
        wake = Math.min(wake, hold);
      }
    }
    if (wake < Infinity) this.timer = this.clock.setTimeout(() => this.pump(), wake - now);
    this.checkDrained();
  }

  /** Queues with work and a free instance, in the order they get it (see crossModelOrder). */
  private contenders(now: number): Contender<ModelQueue>[] {
    const ready: Contender<ModelQueue>[] = [];
    for (const [key, queue] of this.queues) {
      if (queue.entries.length > 0 && this.lanes.free(queue.entries[0]!.req.model, now) !== undefined)
        ready.push({ key, queue, ...urgencyOf(queue.entries) });
    }
    return ready.length > 1 ? crossModelOrder(ready, this.share, now) : ready;
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

  private dispatch(queue: ModelQueue, takes: readonly Take[], model: ModelSpec, instance: number): void {
    const slices: Slice[] = takes.map((t) => {
      const request = queue.entries[t.index]!;
      const slice = { request, offset: request.dispatched, count: t.count };
      request.dispatched += t.count;
      return slice;
    });
    queue.entries = queue.entries.filter((e) => e.remaining > 0);
    this.lanes.acquire(model, instance);
    // Whatever waits now with no instance left to take it has waited behind this batch.
    const now = this.clock.now();
    for (const q of this.queues.values()) {
      if (q.entries.length > 0 && this.lanes.free(q.entries[0]!.req.model, now) === undefined)
        for (const e of q.entries) e.waited = true;
    }
    void this.execute(model, slices, instance)
      .catch((err: unknown) => {
        const error = new ServiceError('internal', `batch scheduling failed: ${String(err)}`, { cause: err });
        for (const s of slices) this.failRequest(s.request, error, err);
      })
      .finally(() => {
        this.lanes.release(model, instance);
        this.pump();
      });
  }

  private async execute(model: ModelSpec, slices: Slice[], instance: number): Promise<void> {
    await runWithRecovery<Slice, SliceResult>(slices, {
      run: (parts) => this.runOnce(model, parts, instance),
      reset: () => this.runner.reset(model, instance),
      isOutOfMemory: this.isOutOfMemory,
      classifyError: this.classifyError,
      cap: this.capHooks(model, instance),
      items: (s) => s.count,
      split: (s, n) => [
        { ...s, count: n },
        { request: s.request, offset: s.offset + n, count: s.count - n },
      ],
      abandoned: (s) => s.request.settled,
      onSettled: (o) =>
        o.ok ? o.part.request.addResult(o.part, o.result) : this.failRequest(o.part.request, o.error, o.cause),
      label: `model '${model.name}' version ${model.version} instance ${instance}`,
    });
  }

  /** Exactly one `runner.run`: stack, run, split. */
  private async runOnce(model: ModelSpec, parts: readonly Slice[], instance: number): Promise<SliceResult[]> {
    const inputs = stackInputs(
      model,
      parts.map((p) => ({ inputs: p.request.req.inputs, offset: p.offset, count: p.count })),
    );
    const batchSize = parts.reduce((n, p) => n + p.count, 0);
    // Full: the cap limited the batch. Backlog: its items waited behind the previous batch, so
    // the device is saturated even though the cap did not bind.
    const backToBack = parts.some((p) => p.request.waited);
    const cap = this.capFor(model, instance);
    const planned: BatchLoad = batchSize >= cap.value ? 'full' : backToBack ? 'backlog' : 'light';
    const lane = `${modelKey(model)}#${instance}`;
    const startedAt = this.clock.now();
    let result: RunResult;
    try {
      result = await this.runner.run(model, inputs, instance);
    } catch (err) {
      this.lastEndedAt.delete(lane);
      throw err;
    }
    // What this batch cost the device: when batches run back to back, the time since the last
    // one ended (thread hand-off and the main thread's work between batches included: those, not
    // session.run alone, bound the items per second); otherwise its own run time.
    const endedAt = this.clock.now();
    const lastEndedAt = this.lastEndedAt.get(lane);
    const costMs = backToBack && lastEndedAt !== undefined ? endedAt - lastEndedAt : endedAt - startedAt;
    this.lastEndedAt.set(lane, endedAt);
    this.share.record(modelKey(model), endedAt - startedAt, endedAt);
    const load = observedLoad(planned, endedAt - startedAt, costMs);
    const outputs = splitOutputs(
      model,
      result.outputs,
      parts.map((p) => ({ inputs: p.request.req.inputs, count: p.count })),
    );
    const delayMs = this.queues.get(modelKey(model))?.delayMs ?? 0;
    this.emit(() =>
      this.events.onBatch?.({
        model,
        size: batchSize,
        requests: parts.length,
        computeMs: result.computeMs,
        provider: result.provider,
        queueMs: parts.map((p) => startedAt - p.request.req.enqueuedAt),
        delayMs,
        requestIds: parts.map((p) => p.request.req.id),
        startedAt,
        endedAt,
      }),
    );
    // The run's own time, as the inference thread measured it: the main thread's view adds the
    // hand-off, which a busy machine stretches whatever the batch size.
    const runMs = Number.isFinite(result.computeMs) && result.computeMs >= 0 ? result.computeMs : endedAt - startedAt;
    tuneCap(cap, model, { size: batchSize, costMs, runMs, load }, (fn) => this.emit(fn), this.events);
    return outputs.map((o) => ({
      outputs: o,
      computeMs: result.computeMs,
      provider: result.provider,
      startedAt,
      batchSize,
    }));
  }

  private capHooks(model: ModelSpec, instance: number): RecoveryCap {
    return capHooks(this.capFor(model, instance), model, (fn) => this.emit(fn), this.events);
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
        this.failRequest(
          entry,
          // The client reads this as is: every deadline answer starts with Triton's words.
          new ServiceError(
            'timeout',
            'request timeout expired: the deadline passed while the request waited for a batch',
          ),
          undefined,
        );
      }
    }
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private checkDrained(): void {
    if (!this.draining || this.lanes.active > 0 || this.pending() > 0) return;
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
