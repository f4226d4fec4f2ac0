import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  failureReason,
  fromWire,
  JOB_SCHEMA_VERSION,
  toWire,
  type InferJobData,
  type InferJobResult,
  type InferJobSummary,
  type InferRequestPart,
  type JobFailure,
  type ModelSpec,
  type Reply,
} from '@tessera/contract';
import type { Scheduler } from '@tessera/batcher';
import { queueName, REPLY_TTL_MS, ReplySender } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';
import { HeldJobs, HoldingWorker } from './held-jobs.js';
import type { WorkerMetrics } from './metrics.js';
import type { WorkerTracing } from './tracing.js';

export interface JobProcessorDeps {
  /** Model name this processor's queue belongs to. */
  name: string;
  /** The versions of that model this worker serves, by version. */
  versions: Map<string, ModelSpec>;
  scheduler: Pick<Scheduler, 'submit'>;
  replyConnection: Redis;
  prefix: string;
  workerId: string;
  metrics: WorkerMetrics;
  tracing: WorkerTracing;
}

export interface ConsumerDeps extends JobProcessorDeps {
  bullConnection: Redis;
  /** Jobs held at once: `idle` while the queue keeps up, `most` while it has a backlog (HeldJobs). */
  concurrency: { idle: number; most: number };
  lockDurationMs: number;
  stalledIntervalMs: number;
  logger: Logger;
}

type RequestOutcome = InferJobSummary['requests'][string];

/** A result up to this size (base64 bytes) is also kept as the job's return value, for late readers. */
const KEPT_RESULT_BYTES = 16 * 1024;

/**
 * What one held job goes through: its requests are handed to the scheduler, each answered on
 * its own (a job carries one or more requests; the API coalesces requests that arrive
 * together), and the job's summary becomes its BullMQ return value.
 */
export class JobProcessor {
  // Besides the reply list, this releases the request's admission entry (queue cap), stores a
  // success in the response cache and answers replicas that attached to an idempotent request.
  // The replies of one batch go to Redis together.
  private readonly sender: ReplySender;

  constructor(private readonly deps: JobProcessorDeps) {
    this.sender = new ReplySender(deps.replyConnection, REPLY_TTL_MS);
  }

  async process(job: Pick<Job<InferJobData, InferJobSummary>, 'data'>): Promise<InferJobSummary> {
    const { deps } = this;
    const data = job.data;
    const model = deps.versions.get(data.version);
    if (data.v !== JOB_SCHEMA_VERSION || data.model !== deps.name || !model || !Array.isArray(data.requests)) {
      // A job this worker cannot read: fail it loudly rather than guess.
      const message = `job schema v${data.v} for ${data.model}@${data.version} is not what this worker serves (${deps.name}@${[...deps.versions.keys()].join(',')}, schema v${JOB_SCHEMA_VERSION})`;
      for (const part of Array.isArray(data.requests) ? data.requests : []) {
        await this.reply(data, part, { requestId: part.requestId, ok: false, error: { code: 'internal', message } });
      }
      throw new UnrecoverableError(failureReason({ code: 'internal', message }));
    }
    // Large inputs were stored apart, raw (WireTensor.blob): one round trip for the whole job.
    const keys = data.requests.flatMap((p) => p.inputs.flatMap((w) => (w.blob !== undefined ? [w.blob] : [])));
    const blobs = new Map<string, Buffer | null>();
    if (keys.length > 0) {
      const values = await deps.replyConnection.mgetBuffer(...keys);
      keys.forEach((k, i) => blobs.set(k, values[i] ?? null));
    }
    const outcomes = await Promise.all(data.requests.map((part) => this.runRequest(data, model, part, blobs)));
    if (keys.length > 0)
      void deps.replyConnection.del(...keys).catch(() => {
        // The blobs expire on their own (deadline plus a minute); deleting them only frees memory sooner.
      });
    const summary: InferJobSummary = { requests: {} };
    data.requests.forEach((part, i) => (summary.requests[part.requestId] = outcomes[i]!));
    const failures = outcomes.filter((o) => !o.ok);
    // A job whose every request failed is a failed job (visible as such on the dashboard).
    if (failures.length === outcomes.length) {
      // The reason starts with the error code, so that a late reader answers with the same one.
      const first = (failures[0]! as { error: JobFailure }).error;
      throw new UnrecoverableError(
        failureReason(
          outcomes.length === 1
            ? first
            : { code: first.code, message: `all ${outcomes.length} requests failed; the first: ${first.message}` },
        ),
      );
    }
    return summary;
  }

  /** Schedules one request of the job and answers it, whatever the outcome. */
  async runRequest(
    data: InferJobData,
    model: ModelSpec,
    part: InferRequestPart,
    blobs: Map<string, Buffer | null>,
  ): Promise<RequestOutcome> {
    const { deps } = this;
    const { metrics } = deps;
    const fail = async (code: JobFailure['code'], message: string) => {
      await this.reply(data, part, { requestId: part.requestId, ok: false, error: { code, message } });
      return { ok: false as const, error: { code, message } };
    };
    if (Date.now() > part.deadline) {
      // Nobody waits for this answer any more; computing it would only delay live requests.
      metrics.jobs.inc({ model: deps.name, outcome: 'expired' });
      return fail('timeout', 'request timeout expired: the deadline passed while the request was queued');
    }
    const missing = part.inputs.find((w) => w.blob !== undefined && !blobs.get(w.blob));
    if (missing) {
      // Stored apart and gone: its TTL (deadline plus a minute) passed, or Redis lost it.
      metrics.jobs.inc({ model: deps.name, outcome: 'failed' });
      return fail('timeout', `the data of input '${missing.name}' is no longer in Redis (request too old)`);
    }
    deps.tracing.received(part.requestId, part.traceparent);
    const outcome = await deps.scheduler.submit({
      id: part.requestId,
      model,
      items: part.items,
      inputs: part.inputs.map((w) => fromWire(w, w.blob !== undefined ? blobs.get(w.blob)! : undefined)),
      ...(part.outputs ? { outputs: part.outputs } : {}),
      enqueuedAt: data.enqueuedAt,
      deadline: part.deadline,
      ...(data.priority !== undefined ? { priority: data.priority } : {}),
    });
    if (!outcome.ok) {
      // A deadline that passed while the request waited in memory for a batch: dropped, not computed.
      metrics.jobs.inc({ model: model.name, outcome: outcome.error.code === 'timeout' ? 'expired' : 'failed' });
      return fail(outcome.error.code, outcome.error.message);
    }
    deps.tracing.queueWait(part.requestId, model.name, data.enqueuedAt, data.enqueuedAt + outcome.timing.queueMs);
    const result: InferJobResult = {
      outputs: outcome.outputs.map(toWire),
      timing: outcome.timing,
      provider: outcome.provider,
      worker: deps.workerId,
    };
    metrics.jobs.inc({ model: model.name, outcome: 'ok' });
    await this.reply(data, part, { requestId: part.requestId, ok: true, result });
    const size = result.outputs.reduce((n, o) => n + o.b64.length, 0);
    return size <= KEPT_RESULT_BYTES ? { ok: true, result } : { ok: true, outputs: result.outputs.map((o) => o.name) };
  }

  /** Delivers one request's reply to the replica waiting for it (and the caches it fills). */
  async reply(data: InferJobData, part: InferRequestPart, r: Reply): Promise<void> {
    const delivery = {
      prefix: this.deps.prefix,
      model: data.model,
      replyTo: data.replyTo,
      items: part.items,
      idempotency: part.idempotency,
      cache: part.cache,
    };
    await this.deps.tracing.reply(part.requestId, () => this.sender.send({ delivery, reply: r }));
  }
}

/**
 * One BullMQ Worker per served model. OSS BullMQ hands out jobs one by one, so batching works
 * through concurrency: BullMQ runs up to `concurrency` processor calls at once (HeldJobs: one per
 * instance while the queue keeps up, the batching window while it has a backlog), each one hands
 * its job's requests to the scheduler and waits; the scheduler forms batches from the requests
 * waiting in memory. Every job stays an ordinary active BullMQ job with its own lock, renewed by
 * BullMQ while it waits and runs, so retries and stalled-job recovery work unchanged (see
 * docs/architecture.md).
 */
export function startConsumer(deps: ConsumerDeps): Worker<InferJobData, InferJobSummary> {
  const { name, logger } = deps;
  const processor = new JobProcessor(deps);
  const held = new HeldJobs(deps.concurrency.idle, deps.concurrency.most);
  const worker = new HoldingWorker(
    queueName(name),
    (job) => processor.process(job),
    {
      connection: deps.bullConnection,
      prefix: deps.prefix,
      lockDuration: deps.lockDurationMs,
      stalledInterval: deps.stalledIntervalMs,
      // Jobs are taken as soon as they are free; the scheduler decides how long to wait.
      drainDelay: 1,
      // After a lost connection (Redis restarted or failed over) BullMQ waits this long before it
      // fetches again: its default of 15 s would idle the worker that long after Redis is back.
      runRetryDelay: 500,
      autorun: true,
    },
    held,
  );
  worker.on('error', (err) => logger.error({ err: err.message, model: name }, 'queue consumer error'));
  worker.on('stalled', (id) =>
    logger.warn({ jobId: id, model: name }, 'job stalled (a worker died holding it); BullMQ re-queued it'),
  );
  return worker;
}
