import { randomUUID } from 'node:crypto';
import { Job, type Queue } from 'bullmq';
import { JOB_SCHEMA_VERSION, ServiceError, toWire, type InferJobData, type InferJobResult, type ModelSpec, type ValidatedRequest } from '@tessera/contract';
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
}

/**
 * The API's only way to get inference done: enqueue one job and wait for the worker's reply.
 *
 * Who answers when something fails:
 * - enqueue fails (Redis down): this call throws `not_ready`, nothing was queued;
 * - the worker reports a failure: its error code and message are passed on;
 * - no reply before the deadline: the job's state is read once; a finished job's result or
 *   failure is used, otherwise a waiting job is removed and the client gets `timeout` (504).
 */
export class InferClient {
  constructor(
    private readonly queueFor: (model: string) => Queue,
    private readonly replies: ReplyListener,
    private readonly logger: Logger,
  ) {}

  async infer(model: ModelSpec, request: ValidatedRequest, opts: InferOptions): Promise<InferJobResult> {
    const jobId = randomUUID();
    const now = performance.timeOrigin + performance.now(); // same clock as the worker's scheduler
    const data: InferJobData = {
      v: JOB_SCHEMA_VERSION,
      model: model.name,
      version: model.version,
      requestId: opts.requestId,
      replyTo: this.replies.key,
      enqueuedAt: now,
      deadline: now + opts.timeoutMs,
      items: request.items,
      inputs: request.tensors.map(toWire),
      ...(request.outputs ? { outputs: request.outputs } : {}),
    };
    const queue = this.queueFor(model.name);
    const reply = this.replies.wait(jobId, opts.timeoutMs);
    reply.catch(() => {}); // observed below; avoid an unhandled rejection if add() throws first
    try {
      // BullMQ's connection queues commands while Redis is away; bound the wait so the client
      // hears 503 instead of hanging until Redis comes back.
      await withTimeout(queue.add('infer', data, { ...INFER_JOB_OPTIONS, jobId }), Math.min(ENQUEUE_TIMEOUT_MS, opts.timeoutMs), 'Redis did not accept the job in time');
    } catch (err) {
      this.replies.cancel(jobId);
      throw new ServiceError('not_ready', `could not enqueue the request: ${(err as Error).message}`, { cause: err });
    }
    try {
      const r = await reply;
      if (r.ok) return r.result;
      throw new ServiceError(r.error.code, r.error.message);
    } catch (err) {
      if (!(err instanceof ReplyTimeoutError)) throw err;
      return this.late(queue, jobId, opts.timeoutMs);
    }
  }

  /** The reply did not come in time: settle from the job itself. */
  private async late(queue: Queue, jobId: string, timeoutMs: number): Promise<InferJobResult> {
    const lookup = async () => {
      const job = await Job.fromId<InferJobData, InferJobResult>(queue, jobId);
      return { job, state: job ? await job.getState() : 'missing' };
    };
    const { job, state } = await withTimeout(lookup(), LOOKUP_TIMEOUT_MS, 'lookup timed out').catch(() => ({ job: undefined, state: 'unknown' }));
    this.logger.warn({ jobId, state }, 'no reply before the deadline');
    if (job && state === 'completed' && job.returnvalue) return job.returnvalue;
    if (job && state === 'failed') throw new ServiceError('inference_failed', job.failedReason || 'inference failed');
    if (job && (state === 'waiting' || state === 'prioritized' || state === 'delayed')) {
      await job.remove().catch(() => {}); // nobody waits for it any more; an active job's worker drops it at its deadline
    }
    throw new ServiceError('timeout', `no result within ${timeoutMs} ms (job ${state}); the service is overloaded or no worker is running`);
  }
}
