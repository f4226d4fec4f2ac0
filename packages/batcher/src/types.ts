import type { ModelSpec, ServiceError, Tensor, Timing } from '@tessera/contract';
import type { Clock } from './clock.js';

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
}

export interface RunResult {
  /** Every model output, batch dimension first. */
  outputs: Tensor[];
  computeMs: number;
  /** Execution provider that ran the batch. */
  provider: string;
}

/** The device. The scheduler never calls `run` while another `run` or `reset` is in progress. */
export interface Runner {
  run(model: ModelSpec, inputs: Tensor[]): Promise<RunResult>;
  /** Drops and recreates the model's session; called after an out-of-memory failure. */
  reset(model: ModelSpec): Promise<void>;
}

export type Outcome =
  | { ok: true; outputs: Tensor[]; timing: Timing; provider: string }
  | { ok: false; error: ServiceError };

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
}

/** Hooks for metrics and logs. They run synchronously; exceptions they throw are ignored. */
export interface SchedulerEvents {
  /** After every successful `runner.run`. */
  onBatch?(event: BatchEvent): void;
  /** After an out-of-memory failure shrank the cap from `from` to `to`; `items` is the failed batch's size. */
  onOom?(event: { model: ModelSpec; from: number; to: number; items: number }): void;
  /** Whenever a model's cap changes (shrinking after OOM or growing back). */
  onCapChange?(event: { model: ModelSpec; cap: number }): void;
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
  events?: SchedulerEvents;
}
