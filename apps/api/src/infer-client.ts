import { randomUUID } from 'node:crypto';
import { Job, type Queue } from 'bullmq';
import { JOB_SCHEMA_VERSION, ServiceError, toWire, type InferJobData, type InferJobResult, type ModelSpec, type Reply, type ValidatedRequest } from '@tessera/contract';
import { INFER_JOB_OPTIONS, ReplyTimeoutError, type ReplyListener } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';

const ENQUEUE_TIMEOUT_MS = 5000;
const LOOKUP_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface InferOptions {
  requestId: string;
  timeoutMs: number;
  /** The job id (a fresh one when absent); the admission and idempotency entries use it too. */
  jobId?: string;
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
}

const clientGone = () => new ServiceError('client_closed_request', 'the client closed the connection before the answer');

/**
 * The API's only way to get inference done: enqueue one job and wait for the worker's reply.
 *
 * Who answers when something fails:
 * - enqueue fails (Redis down): this call throws `not_ready`, nothing was queued;
 * - the worker reports a failure: its error code and message are passed on;
 * - no reply before the deadline: the job's state is read once; a finished job's result or
 *   failure is used, otherwise a waiting job is removed and the client gets `timeout` (504);
 * - the client disconnects: its waiter is dropped and a job still waiting is removed.
 */
export class InferClient {
  constructor(
    private readonly queueFor: (model: string) => Queue,
    private readonly replies: ReplyListener,
    private readonly logger: Logger,
  ) {}

  /** The reply list this replica reads; attached retries register it with the job. */
  get replyKey(): string {
    return this.replies.key;
  }

  async infer(model: ModelSpec, request: ValidatedRequest, opts: InferOptions): Promise<InferJobResult> {
    const jobId = opts.jobId ?? randomUUID();
    const now = performance.timeOrigin + performance.now(); // same clock as the worker's scheduler
    const data: InferJobData = {
      v: JOB_SCHEMA_VERSION,
      model: model.name,
      version: model.version,
      requestId: opts.requestId,
      replyTo: this.replies.key,
      enqueuedAt: now,
      deadline: opts.deadline ?? now + opts.timeoutMs,
      items: request.items,
      inputs: request.tensors.map(toWire),
      ...(request.outputs ? { outputs: request.outputs } : {}),
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.idempotency ? { idempotency: opts.idempotency } : {}),
    };
    const queue = this.queueFor(model.name);
    const reply = this.replies.wait(jobId, opts.timeoutMs);
    reply.catch(() => {}); // observed below; avoid an unhandled rejection if add() throws first
    try {
      // BullMQ's connection queues commands while Redis is away; bound the wait so the client
      // hears 503 instead of hanging until Redis comes back.
      const jobOptions = { ...INFER_JOB_OPTIONS, jobId, ...(opts.priority !== undefined ? { priority: opts.priority } : {}) };
      await withTimeout(queue.add('infer', data, jobOptions), Math.min(ENQUEUE_TIMEOUT_MS, opts.timeoutMs), 'Redis did not accept the job in time');
    } catch (err) {
      this.replies.cancel(jobId, reply);
      throw new ServiceError('not_ready', `could not enqueue the request: ${(err as Error).message}`, { cause: err });
    }
    return this.settle(queue, jobId, reply, opts.budgetMs ?? opts.timeoutMs, opts.signal, opts.withdrawOnAbort ?? true, true);
  }

  /**
   * Waits for a job another request enqueued (an idempotent retry). This replica's reply list
   * is already registered with the job, so the worker's reply reaches it. Never withdraws the job.
   */
  async attach(model: ModelSpec, jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<InferJobResult> {
    const reply = this.replies.wait(jobId, timeoutMs);
    return this.settle(this.queueFor(model.name), jobId, reply, timeoutMs, signal, false, false);
  }

  private async settle(queue: Queue, jobId: string, reply: Promise<Reply>, timeoutMs: number, signal: AbortSignal | undefined, withdrawOnAbort: boolean, withdrawLate: boolean): Promise<InferJobResult> {
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

  /** Removes a job nobody waits for any more, if no worker has taken it yet. */
  private async withdraw(queue: Queue, jobId: string): Promise<void> {
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
  private async late(queue: Queue, jobId: string, timeoutMs: number, withdraw = true): Promise<InferJobResult> {
    const lookup = async () => {
      const job = await Job.fromId<InferJobData, InferJobResult>(queue, jobId);
      return { job, state: job ? await job.getState() : 'missing' };
    };
    const { job, state } = await withTimeout(lookup(), LOOKUP_TIMEOUT_MS, 'lookup timed out').catch(() => ({ job: undefined, state: 'unknown' }));
    this.logger.warn({ jobId, state }, 'no reply before the deadline');
    if (job && state === 'completed' && job.returnvalue) return job.returnvalue;
    if (job && state === 'failed') throw new ServiceError('inference_failed', job.failedReason || 'inference failed');
    if (withdraw && job && (state === 'waiting' || state === 'prioritized' || state === 'delayed')) {
      await job.remove().catch(() => {}); // nobody waits for it any more; an active job's worker drops it at its deadline
    }
    // A prioritized job is simply waiting, as far as the client is concerned.
    const shown = state === 'prioritized' ? 'waiting' : state;
    throw new ServiceError('timeout', `no result within ${Math.round(timeoutMs)} ms (job ${shown}); the service is overloaded or no worker is running`);
  }
}
