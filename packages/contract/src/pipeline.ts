import type { Timing } from './jobs.js';
import type { Tensor } from './tensor.js';

/** One tensor-level inference a pipeline asks the API to run through the queue. */
export interface InferCall {
  /** Repository model name (latest version). */
  model: string;
  /** Tensors in the model's input order, batch dimension first. */
  inputs: Tensor[];
  /** Output names to return; all when absent. */
  outputs?: string[];
}

export interface InferAnswer {
  outputs: Tensor[];
  timing: Timing;
  provider: string;
}

/** Runs one inference through the queue; rejects with a ServiceError. */
export type Infer = (call: InferCall) => Promise<InferAnswer>;

/**
 * Pre- and post-processing for a model that takes texts or images rather than tensors. It runs
 * in the API tier (which scales with replicas); the worker only ever sees tensors.
 */
export interface Pipeline {
  /** The name clients use in `/predict {"model": …}`. */
  readonly name: string;
  /** The request field it reads. */
  readonly input: 'texts' | 'images';
  /** Repository models it calls, so that readiness can check they are served. */
  readonly models: readonly string[];
  /**
   * Validates the request body (throwing ServiceError 'invalid_input' with a message that names
   * the problem), runs inferences and returns one result per text or image.
   */
  predict(body: Record<string, unknown>, infer: Infer): Promise<unknown[]>;
}
