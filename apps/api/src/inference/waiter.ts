import { Job, type Queue } from 'bullmq';
import {
  parseFailureReason,
  ServiceError,
  type InferJobData,
  type InferJobResult,
  type InferJobSummary,
  type ModelSpec,
  type Reply,
} from '@tessera/contract';
import { ReplyTimeoutError, type Admission, type ReplyListener } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';
import type { EnqueuedJob } from './enqueue.js';
import { formatDeadline } from './request-policy.js';
import { withTimeout } from './with-timeout.js';

const LOOKUP_TIMEOUT_MS = 2000;

const clientGone = () =>
  new ServiceError('client_closed_request', 'the client closed the connection before the answer');

/** A job still waiting for a worker: one nobody waits for any more may be removed. */
const unstarted = (state: string) => state === 'waiting' || state === 'prioritized' || state === 'delayed';

/**
 * Waits for the worker's reply to a request, on this replica's reply list.
 *
 * Who answers when something fails:
 * - the worker reports a failure: its error code and message are passed on;
 * - no reply before the deadline: the job's state is read once; a finished job's result (kept
 *   when small) or failure is used, otherwise the client gets `timeout` (504);
 * - the client disconnects: its waiter is dropped (499).
 * A request that got no reply releases its admission entry (an answered one was released by the
 * worker's reply), and lets go of its job: a job whose every request let go before a worker took
 * it is removed. A job shared with requests still waiting stays queued for them, and so does the
 * job of an idempotent request whose client went away (its retry will attach to it).
 */
export class Waiter {
  constructor(
    private readonly queueFor: (model: string) => Queue,
    private readonly replies: ReplyListener,
    private readonly admission: Admission,
    private readonly logger: Logger,
  ) {}

  /** The reply list this replica reads; attached retries register it with the job. */
  get replyKey(): string {
    return this.replies.key;
  }

  /** Registered before the enqueue, so that a fast reply cannot arrive unheard. */
  expect(requestId: string, timeoutMs: number): Promise<Reply> {
    const reply = this.replies.wait(requestId, timeoutMs);
    reply.catch(() => {
      // Observed by wait(); a request that is not enqueued drops it unheard.
    });
    return reply;
  }

  /** Stops waiting for a request that was not enqueued (refused, or answered by the cache). */
  drop(requestId: string, reply: Promise<Reply>): void {
    this.replies.cancel(requestId, reply);
  }

  /** The request's answer from the worker, its job's state when no reply came in time. */
  async wait(
    model: ModelSpec,
    part: { requestId: string; items: number },
    reply: Promise<Reply>,
    job: EnqueuedJob,
    budgetMs: number,
    signal: AbortSignal | undefined,
    /** An idempotent request: its job stays queued when its client goes away, for the retry. */
    idempotent: boolean,
  ): Promise<InferJobResult> {
    try {
      const queue = this.queueFor(model.name);
      return await this.settle(queue, part.requestId, reply, job, budgetMs, signal, idempotent);
    } catch (err) {
      void this.admission.release(model.name, part.requestId, part.items).catch(() => {
        // Redis is away: the entry expires after the request's deadline.
      });
      throw err;
    }
  }

  /**
   * Waits for a request another one enqueued (an idempotent retry). This replica's reply list
   * is already registered with the job, so the worker's reply reaches it. Never withdraws the job.
   */
  attach(model: ModelSpec, requestId: string, timeoutMs: number, signal?: AbortSignal): Promise<InferJobResult> {
    const reply = this.replies.wait(requestId, timeoutMs);
    // The job of a request another replica enqueued is unknown here: its first request's id is a guess.
    const job: EnqueuedJob = { jobId: requestId, requests: 1, waiting: 1, kept: true };
    return this.settle(this.queueFor(model.name), requestId, reply, job, timeoutMs, signal, true);
  }

  private async settle(
    queue: Queue,
    requestId: string,
    reply: Promise<Reply>,
    job: EnqueuedJob,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    idempotent: boolean,
  ): Promise<InferJobResult> {
    const onAbort = () => this.replies.cancel(requestId, reply, clientGone());
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    let answered = false;
    try {
      const r = await reply;
      answered = true;
      if (r.ok) return r.result;
      throw new ServiceError(r.error.code, r.error.message);
    } catch (err) {
      if (answered) throw err;
      job.waiting -= 1;
      if (err instanceof ReplyTimeoutError) return await this.late(queue, requestId, job, timeoutMs);
      if (err instanceof ServiceError && err.code === 'client_closed_request') {
        if (idempotent) job.kept = true;
        await this.withdraw(queue, requestId, job);
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (answered) job.waiting -= 1;
    }
  }

  /** Removes a job nobody waits for any more, if no worker has taken it yet. */
  private async withdraw(queue: Queue, requestId: string, job: EnqueuedJob): Promise<void> {
    const { jobId } = job;
    if (job.waiting > 0 || job.kept) {
      this.logger.info(
        { requestId, jobId, waiting: job.waiting },
        job.kept
          ? 'client went away; its job is kept for an idempotent retry'
          : 'client went away; its job is shared with requests still waiting and stays queued',
      );
      return;
    }
    const remove = async () => {
      const found = await Job.fromId(queue, jobId);
      const state = found ? await found.getState() : 'missing';
      if (found && unstarted(state)) await found.remove();
      return state;
    };
    const state = await withTimeout(remove(), LOOKUP_TIMEOUT_MS, 'lookup timed out').catch((err: Error) => err.message);
    this.logger.info({ requestId, jobId, state }, 'client went away; its job was withdrawn unless a worker had it');
  }

  /** The reply did not come in time: settle from the job itself. */
  private async late(
    queue: Queue,
    requestId: string,
    { jobId, waiting, kept }: EnqueuedJob,
    timeoutMs: number,
  ): Promise<InferJobResult> {
    const lookup = async () => {
      const job = await Job.fromId<InferJobData, InferJobSummary>(queue, jobId);
      return { job, state: job ? await job.getState() : 'missing' };
    };
    const { job, state } = await withTimeout(lookup(), LOOKUP_TIMEOUT_MS, 'lookup timed out').catch(() => ({
      job: undefined,
      state: 'unknown',
    }));
    this.logger.warn({ requestId, jobId, state }, 'no reply before the deadline');
    if (job && state === 'completed') {
      const outcome = job.returnvalue?.requests?.[requestId];
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
    // Nobody waits for it any more; an active job's worker drops it at its deadline.
    if (waiting <= 0 && !kept && job && unstarted(state)) {
      await job.remove().catch(() => {
        // A worker took it meanwhile: it drops the request at its deadline.
      });
    }
    // A prioritized job is simply waiting, as far as the client is concerned.
    const shown = state === 'prioritized' ? 'waiting' : state;
    throw new ServiceError(
      'timeout',
      `request timeout expired: no result within ${formatDeadline(timeoutMs)} (job ${shown}); the service is overloaded or no worker is running`,
    );
  }
}
