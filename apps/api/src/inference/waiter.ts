import { randomUUID } from 'node:crypto';
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  BLOB_MIN_BYTES,
  bytesOf,
  parseFailureReason,
  ServiceError,
  toWire,
  type InferJobData,
  type InferJobResult,
  type InferJobSummary,
  type InferRequestPart,
  type ModelSpec,
  type Reply,
  type ValidatedRequest,
  type WireTensor,
} from '@tessera/contract';
import { blobKeyPrefix, ReplyTimeoutError, type Admission, type QueueShare, type ReplyListener } from '@tessera/queue';
import { tracing, type Logger } from '@tessera/telemetry';
import { JobCoalescer, type Blob, type Cached, type Enqueued, type RateTicket } from './coalescer.js';
import { formatDeadline } from './request-policy.js';
import { withTimeout } from './with-timeout.js';

const LOOKUP_TIMEOUT_MS = 2000;

export interface InferOptions {
  requestId: string;
  timeoutMs: number;
  /** The request's id (a fresh one when absent); its reply, admission and idempotency entries use it. */
  jobId?: string;
  /** The model's queue cap in items (admission). */
  queueCap: number;
  /** The request's whole deadline, for messages (timeoutMs when absent). */
  budgetMs?: number;
  /** Absolute deadline (performance epoch ms); now + timeoutMs when absent. */
  deadline?: number;
  /** BullMQ priority: 1 runs first. */
  priority?: number;
  idempotency?: { key: string; ttlMs: number };
  /** Aborted when the client goes away: the waiter is dropped (and the job withdrawn if `withdrawOnAbort`). */
  signal?: AbortSignal;
  withdrawOnAbort?: boolean;
  /** A response-cache key: a result stored there answers the request instead of a worker. */
  lookup?: string | undefined;
  /** Where the worker stores the result for the response cache. */
  cache?: InferRequestPart['cache'];
  /** The request's rate-limit count, taken by the admission (over the limit: refused, nothing queued). */
  rate?: RateTicket | undefined;
  /** W3C traceparent of the request's span: admission and enqueue get a span below it. */
  traceparent?: string | undefined;
  /** Whose share of the model's queue cap the request takes (over it: refused, nothing queued). */
  share?: QueueShare | undefined;
}

export interface InferAnswer {
  result: InferJobResult;
  /** The response cache answered (looked up with the admission); nothing was queued. */
  cached: boolean;
}

const clientGone = () =>
  new ServiceError('client_closed_request', 'the client closed the connection before the answer');

/**
 * The API's only way to get inference done: admit and enqueue the request (with others that
 * arrive together, see JobCoalescer) and wait for the worker's reply to it.
 *
 * A result already in the response cache (`lookup`) answers during admission, unqueued.
 *
 * Who answers when something fails:
 * - over the model's queue cap: `overloaded` (429), nothing was queued;
 * - enqueue fails (Redis down): this call throws `not_ready`, nothing was queued;
 * - the worker reports a failure: its error code and message are passed on;
 * - no reply before the deadline: the job's state is read once; a finished job's result (kept
 *   when small) or failure is used, otherwise a waiting job of its own is removed and the client
 *   gets `timeout` (504);
 * - the client disconnects: its waiter is dropped and a job of its own still waiting is removed.
 * A request that got no answer releases its admission entry; an answered one was released by
 * the worker's reply.
 */
export class InferClient {
  private readonly coalescer: JobCoalescer;
  /** Requests waiting for their reply: the job carrying each one. */
  private readonly jobs = new Map<string, Enqueued>();

  private readonly queueFor: (model: string) => Queue;
  private readonly replies: ReplyListener;
  private readonly admission: Admission;
  private readonly logger: Logger;
  private readonly blobPrefix: string;

  constructor(opts: {
    queueFor: (model: string) => Queue;
    replies: ReplyListener;
    admission: Admission;
    logger: Logger;
    /** The connection of the queues and the admission; large inputs' bytes are stored there too. */
    enqueueConnection: Redis;
    prefix: string;
    coalesceWindowMs?: number;
  }) {
    this.queueFor = opts.queueFor;
    this.replies = opts.replies;
    this.admission = opts.admission;
    this.logger = opts.logger;
    this.blobPrefix = blobKeyPrefix(opts.prefix);
    this.coalescer = new JobCoalescer(
      opts.queueFor,
      opts.admission,
      opts.enqueueConnection,
      opts.replies.key,
      opts.coalesceWindowMs ?? 0,
    );
  }

  /** The reply list this replica reads; attached retries register it with the job. */
  get replyKey(): string {
    return this.replies.key;
  }

  async infer(model: ModelSpec, request: ValidatedRequest, opts: InferOptions): Promise<InferAnswer> {
    const id = opts.jobId ?? randomUUID();
    const now = performance.timeOrigin + performance.now(); // same clock as the worker's scheduler
    const blobs: Blob[] = [];
    const inputs = request.tensors.map((t, i): WireTensor => {
      const bytes = bytesOf(t.data);
      if (bytes.byteLength < BLOB_MIN_BYTES) return toWire(t);
      const key = `${this.blobPrefix}${id}:${i}`;
      blobs.push({ key, bytes });
      return { name: t.name, datatype: t.datatype, shape: [...t.shape], b64: '', blob: key };
    });
    const span = tracing().enabled
      ? tracing().start('admission/enqueue', { parent: opts.traceparent, attributes: { 'tessera.model': model.name } })
      : undefined;
    const part: InferRequestPart = {
      id,
      requestId: opts.requestId,
      deadline: opts.deadline ?? now + opts.timeoutMs,
      items: request.items,
      inputs,
      ...(request.outputs ? { outputs: request.outputs } : {}),
      ...(opts.idempotency ? { idempotency: opts.idempotency } : {}),
      ...(opts.cache ? { cache: opts.cache } : {}),
      ...(span?.traceparent ? { traceparent: span.traceparent } : {}),
    };
    const reply = this.replies.wait(id, opts.timeoutMs);
    reply.catch(() => {}); // observed below; avoid an unhandled rejection if enqueueing throws first
    let enqueued: Enqueued | Cached;
    try {
      enqueued = await this.coalescer.enqueue(
        model,
        part,
        {
          priority: opts.priority,
          queueCap: opts.queueCap,
          timeoutMs: opts.timeoutMs,
          lookup: opts.lookup,
          rate: opts.rate,
          share: opts.share,
        },
        blobs,
      );
    } catch (err) {
      this.replies.cancel(id, reply);
      span?.end({ error: (err as Error).message });
      throw err;
    }
    span?.setAttributes({ 'tessera.cache_hit': 'cached' in enqueued });
    span?.end();
    if ('cached' in enqueued) {
      this.replies.cancel(id, reply);
      try {
        return { result: JSON.parse(enqueued.cached) as InferJobResult, cached: true };
      } catch {
        this.logger.warn({ model: model.name, key: opts.lookup }, 'unreadable response-cache entry; computing');
        return this.infer(model, request, { ...opts, jobId: id, lookup: undefined, rate: undefined }); // counted already
      }
    }
    this.jobs.set(id, enqueued);
    try {
      const result = await this.settle(
        this.queueFor(model.name),
        id,
        reply,
        opts.budgetMs ?? opts.timeoutMs,
        opts.signal,
        opts.withdrawOnAbort ?? true,
        true,
      );
      return { result, cached: false };
    } catch (err) {
      // No reply came (the worker's reply releases the entry itself).
      void this.admission.release(model.name, id, part.items).catch(() => {});
      throw err;
    } finally {
      this.jobs.delete(id);
      this.coalescer.answered(model);
    }
  }

  /**
   * Waits for a job another request enqueued (an idempotent retry). This replica's reply list
   * is already registered with the job, so the worker's reply reaches it. Never withdraws the job.
   */
  async attach(model: ModelSpec, jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<InferJobResult> {
    const reply = this.replies.wait(jobId, timeoutMs);
    return this.settle(this.queueFor(model.name), jobId, reply, timeoutMs, signal, false, false);
  }

  private async settle(
    queue: Queue,
    jobId: string,
    reply: Promise<Reply>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    withdrawOnAbort: boolean,
    withdrawLate: boolean,
  ): Promise<InferJobResult> {
    const onAbort = () => this.replies.cancel(jobId, reply, clientGone());
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await reply;
      if (r.ok) return r.result;
      throw new ServiceError(r.error.code, r.error.message);
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'client_closed_request') {
        if (withdrawOnAbort) await this.withdraw(queue, jobId);
        throw err;
      }
      if (!(err instanceof ReplyTimeoutError)) throw err;
      return this.late(queue, jobId, timeoutMs, withdrawLate);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The job carrying a request (a request another replica enqueued is its job's first, or unknown). */
  private jobOf(id: string): Enqueued {
    return this.jobs.get(id) ?? { jobId: id, requests: 1 };
  }

  /** Removes a job nobody waits for any more, if no worker has taken it yet and no other request shares it. */
  private async withdraw(queue: Queue, id: string): Promise<void> {
    const { jobId, requests } = this.jobOf(id);
    if (requests > 1) {
      this.logger.info(
        { requestId: id, jobId },
        'client went away; its job is shared with other requests and stays queued',
      );
      return;
    }
    const remove = async () => {
      const job = await Job.fromId(queue, jobId);
      const state = job ? await job.getState() : 'missing';
      if (job && (state === 'waiting' || state === 'prioritized' || state === 'delayed')) await job.remove();
      return state;
    };
    const state = await withTimeout(remove(), LOOKUP_TIMEOUT_MS, 'lookup timed out').catch((err: Error) => err.message);
    this.logger.info({ jobId, state }, 'client went away; its job was withdrawn unless a worker had it');
  }

  /** The reply did not come in time: settle from the job itself. */
  private async late(queue: Queue, id: string, timeoutMs: number, withdraw = true): Promise<InferJobResult> {
    const { jobId, requests } = this.jobOf(id);
    const lookup = async () => {
      const job = await Job.fromId<InferJobData, InferJobSummary>(queue, jobId);
      return { job, state: job ? await job.getState() : 'missing' };
    };
    const { job, state } = await withTimeout(lookup(), LOOKUP_TIMEOUT_MS, 'lookup timed out').catch(() => ({
      job: undefined,
      state: 'unknown',
    }));
    this.logger.warn({ requestId: id, jobId, state }, 'no reply before the deadline');
    if (job && state === 'completed') {
      const outcome = job.returnvalue?.requests?.[id];
      if (outcome?.ok && outcome.result) return outcome.result;
      if (outcome && !outcome.ok) throw new ServiceError(outcome.error.code, outcome.error.message);
      if (outcome)
        throw new ServiceError(
          'timeout',
          `request timeout expired: the result came after the deadline of ${formatDeadline(timeoutMs)} and was too large to be kept; the service is overloaded`,
        );
    }
    if (job && state === 'failed') {
      // Usually the worker dropped this request at its deadline just as the reply timer fired:
      // the reason carries the worker's code (timeout), as the reply would have.
      const failure = parseFailureReason(job.failedReason);
      if (failure?.code === 'timeout')
        throw new ServiceError(
          'timeout',
          `request timeout expired: no result within ${formatDeadline(timeoutMs)} (dropped at its deadline, not computed)`,
        );
      if (failure) throw new ServiceError(failure.code, failure.message);
      throw new ServiceError('inference_failed', job.failedReason || 'inference failed');
    }
    if (withdraw && requests === 1 && job && (state === 'waiting' || state === 'prioritized' || state === 'delayed')) {
      await job.remove().catch(() => {}); // nobody waits for it any more; an active job's worker drops it at its deadline
    }
    // A prioritized job is simply waiting, as far as the client is concerned.
    const shown = state === 'prioritized' ? 'waiting' : state;
    throw new ServiceError(
      'timeout',
      `request timeout expired: no result within ${formatDeadline(timeoutMs)} (job ${shown}); the service is overloaded or no worker is running`,
    );
  }
}
