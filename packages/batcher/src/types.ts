import type { ModelSpec, Runner, ServiceError, Tensor, Timing } from '@tessera/contract';
import type { CapChangeReason, TuningOptions } from './batch-size-controller.js';
import type { Clock } from './clock.js';
import type { PaddingPolicy } from './padding.js';

/** One inference request as the worker hands it to the scheduler. */
export interface BatchRequest {
  /** Identifies the request in events; not interpreted. */
  id: string;
  model: ModelSpec;
  /** Size of the batch dimension this request carries (1 for models without batching). */
  items: number;
  /** One tensor per model input, in model input order, batch dimension first. */
  inputs: Tensor[];
  /** Output names to return, in this order; all model outputs when absent. */
  outputs?: string[];
  /** When the request was enqueued, on the scheduler clock's scale (epoch ms). */
  enqueuedAt: number;
  /**
   * After this time (scheduler clock) nobody waits for the answer: the request is answered
   * `timeout` instead of joining a batch. No deadline when absent.
   */
  deadline?: number;
  /** Lower runs first (1 = highest); requests without one rank after those with one. */
  priority?: number;
}

export type { RunResult, Runner } from '@tessera/contract';

export type Outcome =
  { ok: true; outputs: Tensor[]; timing: Timing; provider: string } | { ok: false; error: ServiceError };

export interface BatchEvent {
  model: ModelSpec;
  /** Items in the batch. */
  size: number;
  /** Requests (or request slices) in the batch. */
  requests: number;
  computeMs: number;
  provider: string;
  /** Per request slice: batch start minus its `enqueuedAt`. */
  queueMs: number[];
  /** How long the batching rule held this batch open for more items (0: it went at once). */
  delayMs: number;
  /** The `id` of each request slice's request (tracing links the batch to them). */
  requestIds: string[];
  /** When runner.run began and ended, on the scheduler's clock. */
  startedAt: number;
  endedAt: number;
}

/** Hooks for metrics and logs. They run synchronously; exceptions they throw are ignored. */
export interface SchedulerEvents {
  /** After every successful `runner.run`. */
  onBatch?(event: BatchEvent): void;
  /** After an out-of-memory failure shrank the cap from `from` to `to`; `items` is the failed batch's size. */
  onOom?(event: { model: ModelSpec; from: number; to: number; items: number }): void;
  /**
   * Whenever a model's cap changes: `oom` (shrunk), `grow` (back after successes), or the
   * throughput tuner's `probe` (trying a neighbouring cap), `settle` (a better cap found; also
   * reported when it is the cap being tried, which then stays) or `objective` (the latency
   * objective forced a smaller cap).
   */
  onCapChange?(event: { model: ModelSpec; cap: number; from?: number; reason?: CapChangeReason }): void;
  /** Once per request that fails; `cause` is what the runner threw. */
  onFailure?(event: { model: ModelSpec; requestId: string; error: ServiceError; cause: unknown }): void;
}

export interface SchedulerOptions {
  runner: Runner;
  clock?: Clock;
  isOutOfMemory(err: unknown): boolean;
  /** Maps anything else `runner.run` throws to the error the requests fail with. */
  classifyError(err: unknown): ServiceError;
  /** Consecutive successful batches before a shrunken cap doubles again (default 20). */
  growAfter?: number;
  /**
   * Tune each model's cap at run time to the best measured throughput within its latency
   * objective (true or options). Off by default: the cap is then max_batch_size, moved only by
   * out-of-memory failures.
   */
  tuning?: boolean | TuningOptions;
  /** Bounds on the padding of batches of models that pad (default: DEFAULT_PADDING). */
  padding?: Partial<PaddingPolicy>;
  events?: SchedulerEvents;
  /**
   * The model's instances on this worker and the CPU threads one run of them takes. Absent: one
   * instance per model taking one thread, which with the default budget of 1 means one run at a
   * time across all models.
   */
  instances?(model: ModelSpec): InstancePlan;
  /** CPU threads that runs may take at the same time (default 1). */
  threadBudget?: number;
}

/** How a model runs on this worker. */
export interface InstancePlan {
  /** Sessions that may run at the same time (at least 1). */
  count: number;
  /** CPU threads one run of an instance takes from the budget (0: none, e.g. a GPU session). */
  threads: number;
}
