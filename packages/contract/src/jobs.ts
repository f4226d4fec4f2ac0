import { isErrorCode, type ErrorCode } from './errors.js';
import type { WireTensor } from './tensor.js';

/** 3: a request part's own id is `requestId` (was `id`), the X-Request-Id it is logged under `correlationId`. */
export const JOB_SCHEMA_VERSION = 3;

/**
 * One client request inside a job. An API replica coalesces the requests for the same model,
 * version and priority that arrive while its previous enqueue is in flight into one job, so the
 * per-job Redis work (add, fetch, lock, finish) is paid once for all of them. Every request
 * keeps its own id, deadline and reply.
 */
export interface InferRequestPart {
  /**
   * The request's own id, unique, given by the API: its reply, admission entry and idempotency
   * record carry it. The job's id (`jobId`, BullMQ's) is its first request's.
   */
  requestId: string;
  /** The X-Request-Id the API logs the request under (the client's, or one it generated). */
  correlationId: string;
  /** Epoch milliseconds after which nobody waits for this answer any more. */
  deadline: number;
  /** Size of the batch dimension this request carries. */
  items: number;
  inputs: WireTensor[];
  /** Output names to return; all when absent. */
  outputs?: string[];
  /**
   * Set when the request carried an idempotency key: the worker stores a successful reply under
   * it for `ttlMs` and also pushes the reply to every replica that attached to this request.
   */
  idempotency?: { key: string; ttlMs: number };
  /**
   * Set when the model's response cache is on: the worker stores a successful result (the
   * `InferJobResult` as JSON) under `key` for `ttlMs`, in the script that delivers the reply,
   * unless it is larger than `maxBytes`.
   */
  cache?: { key: string; ttlMs: number; maxBytes: number; budgetBytes?: number };
  /** W3C traceparent of the API's enqueue span, when tracing is on: the worker's spans join its trace. */
  traceparent?: string;
}

/** What the API enqueues: one or more requests, all already validated against the model. */
export interface InferJobData {
  v: typeof JOB_SCHEMA_VERSION;
  model: string;
  version: string;
  /** Redis list the worker pushes the replies to; one per API replica. */
  replyTo: string;
  /** Epoch milliseconds when the API enqueued the job. */
  enqueuedAt: number;
  /** The latest deadline of its requests: past it, the whole job is dropped unseen. */
  deadline: number;
  /** Scheduling priority, 1 = highest (also the BullMQ job priority). */
  priority?: number;
  requests: InferRequestPart[];
}

/** Items a job carries, over all its requests. */
export const jobItems = (data: Pick<InferJobData, 'requests'>): number =>
  data.requests.reduce((n, r) => n + r.items, 0);

/**
 * What a finished job keeps in Redis (its BullMQ return value) for the API's fallback when a
 * reply is late, per request id: the result itself when it is small, otherwise only its outcome
 * (large outputs travel once, on the reply list, and are not stored twice).
 */
export interface InferJobSummary {
  requests: Record<
    string,
    { ok: true; result?: InferJobResult; outputs?: string[] } | { ok: false; error: JobFailure }
  >;
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

/** What a worker pushes onto the reply list of the replica that asked, one per request. */
export type Reply =
  { requestId: string; ok: true; result: InferJobResult } | { requestId: string; ok: false; error: JobFailure };

/**
 * A failed job's reason, as the worker writes it: `<code>: <message>`, so that a reader who
 * missed the reply (the API's late lookup) answers with the same error code.
 */
export function failureReason(failure: JobFailure): string {
  return `${failure.code}: ${failure.message}`;
}

/** The failure in a reason written by failureReason; undefined for any other text. */
export function parseFailureReason(reason: string | undefined): JobFailure | undefined {
  const m = /^([a-z_]+): ([\s\S]*)$/.exec(reason ?? '');
  return m && isErrorCode(m[1]) ? { code: m[1], message: m[2]! } : undefined;
}
