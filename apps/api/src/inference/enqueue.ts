import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_SCHEMA_VERSION, ServiceError, type InferJobData } from '@tessera/contract';
import { INFER_JOB_OPTIONS, type Admission, type AdmissionOutcome, type RateState } from '@tessera/queue';
import type { Submission } from './submission.js';
import { withTimeout } from './with-timeout.js';

const ENQUEUE_TIMEOUT_MS = 5000;
/** Blobs outlive their request's deadline by this much, for a job re-run after a worker died. */
const BLOB_GRACE_MS = 60_000;
/** A job key blocked by the admission is deleted at once; should that fail, it expires. */
const PLACEHOLDER_TTL_MS = 60_000;

/**
 * The BullMQ job that carries one or more requests, one object shared by them: `waiting` counts
 * those still waiting for their answer on this replica; `kept` is set when an idempotent one's
 * client went away (its retry will attach to the job, which must then stay queued).
 */
export interface EnqueuedJob {
  jobId: string;
  requests: number;
  waiting: number;
  kept: boolean;
}

/**
 * What the admission and the enqueue made of one request, with its rate-limit count when it
 * carried one: queued in a job; answered from the response cache (nothing queued); refused (over
 * its rate limit, its key's share of the queue cap, or the cap); or failed (Redis).
 */
export type Admitted = { rate?: RateState | undefined } & (
  | { kind: 'queued'; job: EnqueuedJob }
  | { kind: 'cached'; json: string }
  | { kind: 'refused'; why: 'rate_limited' | 'over_share' | 'overloaded'; inFlight: number }
  | { kind: 'failed'; error: ServiceError }
);

/**
 * Puts a group of submissions (same model, version and priority) into one BullMQ job, in one
 * round trip: the large inputs, the admission and the job add go in this order on one
 * connection. When the admission does not admit them all, it blocks the job's key and that add
 * does nothing (see PlannedJob); the admitted ones then go in a job of their own.
 */
export class JobEnqueuer {
  constructor(
    private readonly queueFor: (model: string) => Queue,
    private readonly admission: Admission,
    /**
     * The connection of the queues and of the admission, where large inputs' bytes go too (see
     * WireTensor.blob). One connection, without auto-pipelining, so that commands reach Redis in
     * the order they are issued: the job add is sent before the admission's answer is back.
     */
    private readonly store: Redis,
    private readonly replyTo: string,
    /**
     * Called inside each enqueue's one socket write: other writes of this connection that may
     * leave now rather than on a timer of their own (the request statistics) go with it.
     */
    private readonly alongside: () => void = () => {},
  ) {
    if (admission.conn !== store) throw new Error('the admission must use the connection the coalescer enqueues on');
  }

  /** One answer per submission, in order; never throws. */
  async enqueue(subs: readonly Submission[]): Promise<Admitted[]> {
    const { model, queueCap } = subs[0]!;
    const store = this.store;
    const queue = this.queueFor(model.name);
    if (queue.opts.connection !== store) {
      const error = new ServiceError(
        'internal',
        `the queue of model '${model.name}' does not use the connection requests are admitted on: this is a bug`,
      );
      return subs.map(() => ({ kind: 'failed', error }));
    }
    // The blobs, the admission and the job add leave in one socket write, not one each.
    const socket = store.stream as { cork?(): void; uncork?(): void } | undefined;
    socket?.cork?.();
    setImmediate(() => socket?.uncork?.());
    this.alongside();
    const writes = subs.flatMap((s) =>
      s.blobs.map((b) => {
        const ttl = Math.max(1, Math.ceil(s.part.deadline - Date.now())) + BLOB_GRACE_MS;
        return store.set(b.key, Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength), 'PX', ttl);
      }),
    );
    const planned = this.job(subs);
    const jobKey = queue.toKey(planned.jobId);
    const budget = Math.max(
      1,
      Math.min(ENQUEUE_TIMEOUT_MS, Math.min(...subs.map((s) => s.part.deadline)) - Date.now()),
    );
    const admitting = this.admission.admitMany(
      model.name,
      subs.map((s) => s.admission),
      queueCap,
      { key: jobKey, placeholderTtlMs: PLACEHOLDER_TTL_MS },
    );
    // BullMQ's connection queues commands while Redis is away; bound the wait so the client
    // hears 503 instead of hanging until Redis comes back.
    const adding = withTimeout(
      queue.add('infer', planned.data, planned.options),
      budget,
      'Redis did not accept the job in time',
    );
    adding.catch(() => {
      // observed below, once the admission has answered
    });
    let outcome: AdmissionOutcome;
    try {
      [outcome] = await withTimeout(
        Promise.all([admitting, ...writes]),
        budget,
        'Redis did not answer the admission in time',
      );
    } catch (err) {
      const error = new ServiceError('not_ready', `Redis is unreachable: ${(err as Error).message}`, { cause: err });
      this.dropBlobs(subs);
      // Admitted or not, a job that got in anyway has nobody waiting for it.
      void adding
        .then(() => queue.remove(planned.jobId))
        .catch(() => {
          // Redis is away: a job that got in expires at its deadline, and workers drop it unrun.
        });
      return subs.map(() => ({ kind: 'failed', error }));
    }
    const accepted = subs.filter((_, i) => outcome.admitted[i]);
    this.dropBlobs(subs.filter((_, i) => !outcome.admitted[i]));
    const planFits = accepted.length === subs.length;
    const added = await this.add(queue, accepted, planFits ? planned : undefined, {
      adding,
      placeholder: outcome.jobBlocked ? jobKey : undefined,
      budget,
    });
    return subs.map((s, i): Admitted => {
      const rate = outcome.rate[i];
      if (outcome.limited[i]) return { rate, kind: 'refused', why: 'rate_limited', inFlight: outcome.inFlight };
      if (outcome.admitted[i])
        return added instanceof ServiceError
          ? { rate, kind: 'failed', error: added }
          : { rate, kind: 'queued', job: added! };
      const hit = outcome.cached[i];
      if (hit !== undefined) return { rate, kind: 'cached', json: hit };
      return {
        rate,
        kind: 'refused',
        why: outcome.overShare[i] ? 'over_share' : 'overloaded',
        inFlight: outcome.inFlight,
      };
    });
  }

  /**
   * The admitted requests' job: the planned add when every request was admitted; else, once
   * the planned add is done (it may have left later than the admission, behind a queue's first
   * connection set-up) and the placeholder is gone, a job of their own under the same id.
   */
  private async add(
    queue: Queue,
    accepted: readonly Submission[],
    planned: ReturnType<JobEnqueuer['job']> | undefined,
    pending: { adding: Promise<unknown>; placeholder: string | undefined; budget: number },
  ): Promise<EnqueuedJob | ServiceError | undefined> {
    let job = planned;
    try {
      if (job) {
        await pending.adding;
      } else {
        await pending.adding.catch(() => {
          // Expected: the placeholder blocked this add.
        });
        const cleared = pending.placeholder ? this.store.del(pending.placeholder) : Promise.resolve(0);
        if (accepted.length === 0) {
          await cleared.catch(() => {
            // The placeholder expires by itself (PLACEHOLDER_TTL_MS).
          });
          return undefined;
        }
        job = this.job(accepted);
        await Promise.all([
          cleared,
          withTimeout(
            queue.add('infer', job.data, job.options),
            pending.budget,
            'Redis did not accept the job in time',
          ),
        ]);
      }
    } catch (err) {
      const model = accepted[0]!.model.name;
      for (const s of accepted) {
        void this.admission.release(model, s.part.requestId, s.part.items).catch(() => {
          // Redis is away: the entry expires after the request's deadline.
        });
      }
      this.dropBlobs(accepted);
      return new ServiceError('not_ready', `could not enqueue the request: ${(err as Error).message}`, { cause: err });
    }
    return { jobId: job.jobId, requests: accepted.length, waiting: accepted.length, kept: false };
  }

  /** The BullMQ job carrying these requests: its id is the first request's. */
  private job(subs: readonly Submission[]): { jobId: string; data: InferJobData; options: JobsOptions } {
    const { model, priority } = subs[0]!;
    const parts = subs.map((s) => s.part);
    const data: InferJobData = {
      v: JOB_SCHEMA_VERSION,
      model: model.name,
      version: model.version,
      replyTo: this.replyTo,
      enqueuedAt: performance.timeOrigin + performance.now(), // same clock as the worker's scheduler
      deadline: Math.max(...parts.map((p) => p.deadline)),
      ...(priority !== undefined ? { priority } : {}),
      requests: parts,
    };
    const jobId = parts[0]!.requestId;
    return {
      jobId,
      data,
      options: { ...INFER_JOB_OPTIONS, jobId, ...(priority !== undefined ? { priority } : {}) },
    };
  }

  /** Blobs of requests that will not be enqueued (they would otherwise wait for their TTL). */
  private dropBlobs(subs: readonly Submission[]): void {
    const keys = subs.flatMap((s) => s.blobs.map((b) => b.key));
    if (keys.length === 0) return;
    void this.store.del(...keys).catch(() => {
      // Redis is away: the blobs expire a minute after their deadline.
    });
  }
}
