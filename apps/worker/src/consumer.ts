import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { fromWire, JOB_SCHEMA_VERSION, toWire, type InferJobData, type InferJobResult, type ModelSpec, type Reply } from '@tessera/contract';
import type { Scheduler } from '@tessera/batcher';
import { deliverReply, queueName, REPLY_TTL_MS } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';
import type { WorkerMetrics } from './metrics.js';

export interface ConsumerDeps {
  /** Model name this consumer's queue belongs to. */
  name: string;
  /** The versions of that model this worker serves, by version. */
  versions: Map<string, ModelSpec>;
  scheduler: Scheduler;
  bullConnection: Redis;
  replyConnection: Redis;
  prefix: string;
  workerId: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  logger: Logger;
  metrics: WorkerMetrics;
}

/**
 * One BullMQ Worker per served model. OSS BullMQ hands out jobs one by one, so batching works
 * through concurrency: BullMQ runs up to `concurrency` processor calls at once, each one hands
 * its job to the scheduler and waits; the scheduler forms batches from the jobs waiting in
 * memory. Every job stays an ordinary active BullMQ job with its own lock, renewed by BullMQ
 * while it waits and runs, so retries and stalled-job recovery work unchanged (see
 * docs/architecture.md).
 */
export function startConsumer(deps: ConsumerDeps): Worker<InferJobData, InferJobResult> {
  const { name, logger, metrics } = deps;

  // Besides the reply list, this releases the job's admission entry (queue cap) and answers
  // replicas that attached to an idempotent job.
  const reply = async (data: InferJobData, r: Reply) => {
    const delivery = { prefix: deps.prefix, model: data.model, replyTo: data.replyTo, items: data.items, idempotency: data.idempotency };
    await deliverReply(deps.replyConnection, delivery, r, REPLY_TTL_MS);
  };

  const processor = async (job: Job<InferJobData, InferJobResult>): Promise<InferJobResult> => {
    const data = job.data;
    const jobId = job.id!;
    const model = deps.versions.get(data.version);
    if (data.v !== JOB_SCHEMA_VERSION || data.model !== name || !model) {
      // A job this worker cannot read: fail it loudly rather than guess.
      const message = `job schema v${data.v} for ${data.model}@${data.version} is not what this worker serves (${name}@${[...deps.versions.keys()].join(',')}, schema v${JOB_SCHEMA_VERSION})`;
      await reply(data, { jobId, ok: false, error: { code: 'internal', message } });
      throw new UnrecoverableError(message);
    }
    if (Date.now() > data.deadline) {
      // Nobody waits for this answer any more; computing it would only delay live requests.
      metrics.jobs.inc({ model: name, outcome: 'expired' });
      const message = 'request deadline passed while queued';
      await reply(data, { jobId, ok: false, error: { code: 'timeout', message } });
      throw new UnrecoverableError(message);
    }
    const outcome = await deps.scheduler.submit({
      id: jobId,
      model,
      items: data.items,
      inputs: data.inputs.map(fromWire),
      ...(data.outputs ? { outputs: data.outputs } : {}),
      enqueuedAt: data.enqueuedAt,
      deadline: data.deadline,
      ...(data.priority !== undefined ? { priority: data.priority } : {}),
    });
    if (!outcome.ok) {
      // A deadline that passed while the job waited in memory for a batch: dropped, not computed.
      metrics.jobs.inc({ model: model.name, outcome: outcome.error.code === 'timeout' ? 'expired' : 'failed' });
      await reply(data, { jobId, ok: false, error: { code: outcome.error.code, message: outcome.error.message } });
      throw new UnrecoverableError(outcome.error.message);
    }
    const result: InferJobResult = { outputs: outcome.outputs.map(toWire), timing: outcome.timing, provider: outcome.provider, worker: deps.workerId };
    metrics.jobs.inc({ model: model.name, outcome: 'ok' });
    await reply(data, { jobId, ok: true, result });
    return result;
  };

  const worker = new Worker<InferJobData, InferJobResult>(queueName(name), processor, {
    connection: deps.bullConnection,
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    lockDuration: deps.lockDurationMs,
    stalledInterval: deps.stalledIntervalMs,
    // Jobs are taken as soon as they are free; the scheduler decides how long to wait.
    drainDelay: 1,
    autorun: true,
  });
  worker.on('error', (err) => logger.error({ err: err.message, model: name }, 'queue consumer error'));
  worker.on('stalled', (id) => logger.warn({ jobId: id, model: name }, 'job stalled (a worker died holding it); BullMQ re-queued it'));
  return worker;
}
