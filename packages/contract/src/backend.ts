import type { ModelSpec } from './model-spec.js';
import type { Tensor } from './tensor.js';

/** What one `session.run` of a batch gives back. */
export interface RunResult {
  /** Every model output, in `model.outputs` order, batch dimension first. */
  outputs: Tensor[];
  /** Time spent in session.run, measured where it ran. */
  computeMs: number;
  /** Execution provider that ran the batch. */
  provider: string;
}

/**
 * The backend contract between the batching scheduler and a device: the ONNX Runtime backend
 * implements it, and so do the fakes of the scheduler's tests. A model has one or more instances
 * (sessions that may run at the same time, numbered from 0; 0 when not given): the scheduler
 * never calls `run` on an instance while another `run` or `reset` of that instance is in progress.
 */
export interface Runner {
  run(model: ModelSpec, inputs: Tensor[], instance?: number): Promise<RunResult>;
  /** Drops and recreates the instance's session; called after an out-of-memory failure. */
  reset(model: ModelSpec, instance?: number): Promise<void>;
}
