import { Worker, type Job, type Processor, type Span, type WorkerOptions } from 'bullmq';
import type { InferJobData, InferJobSummary } from '@tessera/contract';

/**
 * How many jobs a model's consumer holds at once. Idle, it holds `idle` (one per instance):
 * with room for more, BullMQ follows every job it takes with another fetch that, at a light
 * load, finds nothing, a script call in Redis and a round trip for the worker per request. A job
 * found waiting the moment a held one finished means the queue has a backlog: it holds twice as
 * many, up to `most` (the batching window), until it holds nothing again. A job never
 * released (a path that skipped BullMQ's completion) only keeps the consumer at its window.
 */
export class HeldJobs {
  private readonly held = new Set<string>();
  private limit: number;

  constructor(
    readonly idle: number,
    readonly most: number,
  ) {
    this.limit = Math.min(idle, most);
  }

  get current(): number {
    return this.limit;
  }

  /** BullMQ handed out this job. */
  taken(jobId: string): void {
    this.held.add(jobId);
  }

  /** This job finished (completed or failed): its slot is free. */
  released(jobId: string): number {
    this.held.delete(jobId);
    if (this.held.size === 0) this.limit = Math.min(this.idle, this.most);
    return this.limit;
  }

  /**
   * The slot of a finished job was filled by the same call: another job was waiting. Doubling
   * (rather than taking the whole window at once) lets a request that merely arrived as the
   * previous one finished cost little, while a real backlog, whose jobs finish together in
   * batches, reaches the window within a few batches.
   */
  refilled(): number {
    return (this.limit = Math.min(this.most, this.limit * 2));
  }
}

/** A BullMQ Worker whose concurrency follows HeldJobs. */
export class HoldingWorker extends Worker<InferJobData, InferJobSummary> {
  constructor(
    name: string,
    processor: Processor<InferJobData, InferJobSummary>,
    opts: Omit<WorkerOptions, 'concurrency'>,
    private readonly heldJobs: HeldJobs,
  ) {
    super(name, processor, { ...opts, concurrency: heldJobs.current });
    this.on('active', (job) => heldJobs.taken(job.id ?? ''));
  }

  // BullMQ finishes a job and, when its slot may be refilled, takes the next waiting one in the
  // same script call; what it returns is that next job.
  protected override async handleCompleted(
    result: InferJobSummary,
    job: Job<InferJobData, InferJobSummary>,
    token: string,
    fetchNext?: () => boolean,
    span?: Span,
  ): Promise<Job<InferJobData, InferJobSummary>> {
    this.concurrency = this.heldJobs.released(job.id ?? '');
    return this.followRefill(await super.handleCompleted(result, job, token, fetchNext, span));
  }

  protected override async handleFailed(
    err: Error,
    job: Job<InferJobData, InferJobSummary>,
    token: string,
    fetchNext?: () => boolean,
    span?: Span,
  ): Promise<Job<InferJobData, InferJobSummary>> {
    this.concurrency = this.heldJobs.released(job.id ?? '');
    return this.followRefill(await super.handleFailed(err, job, token, fetchNext, span));
  }

  private followRefill<T>(next: T): T {
    if (next) this.concurrency = this.heldJobs.refilled();
    return next;
  }
}
