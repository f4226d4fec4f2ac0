import type { ErrorCode } from './errors.js';
import type { WireTensor } from './tensor.js';

export const JOB_SCHEMA_VERSION = 1;

/** What the API enqueues for one request. Tensors are already validated against the model. */
export interface InferJobData {
  v: typeof JOB_SCHEMA_VERSION;
  model: string;
  version: string;
  requestId: string;
  /** Redis list the worker pushes the reply to; one per API replica. */
  replyTo: string;
  /** Epoch milliseconds when the API enqueued the job. */
  enqueuedAt: number;
  /** Epoch milliseconds after which nobody waits for the answer any more. */
  deadline: number;
  /** Size of the batch dimension this request carries. */
  items: number;
  inputs: WireTensor[];
  /** Output names to return; all when absent. */
  outputs?: string[];
  /** Scheduling priority, 1 = highest (also the BullMQ job priority). */
  priority?: number;
  /**
   * Set when the request carried an idempotency key: the worker stores a successful reply under
   * it for `ttlMs` and also pushes the reply to every replica that attached to this job.
   */
  idempotency?: { key: string; ttlMs: number };
}

export interface Timing {
  /** Enqueue to start of the batch's compute, in milliseconds. */
  queueMs: number;
  /** Duration of the batch's session.run, in milliseconds. */
  computeMs: number;
  /** Number of items in the batch this request ran in. */
  batchSize: number;
}

export interface InferJobResult {
  outputs: WireTensor[];
  timing: Timing;
  /** The execution provider that ran the batch. */
  provider: string;
  worker: string;
}

export interface JobFailure {
  code: ErrorCode;
  message: string;
}

/** What a worker pushes onto the reply list of the replica that asked. */
export type Reply =
  | { jobId: string; ok: true; result: InferJobResult }
  | { jobId: string; ok: false; error: JobFailure };
