import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { INFER_JOB_OPTIONS, queueName } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';

/** How often finished jobs past their age are removed, and at most how many per queue and pass. */
const TRIM_INTERVAL_MS = 30_000;
const TRIM_BATCH = 5000;

const ageMs = (keep: unknown): number =>
  typeof keep === 'object' && keep !== null && 'age' in keep ? Number((keep as { age: number }).age) * 1000 : 0;

/**
 * BullMQ applies `removeOnComplete` / `removeOnFail` ages only when another job finishes, so the
 * jobs of the last minute of load would stay in Redis for as long as the queue stays idle. This
 * removes finished jobs past those ages on a timer, so that Redis returns to its idle size after
 * a load. Stops with the returned function.
 */
export function startJobTrimmer(
  connection: Redis,
  prefix: string,
  models: readonly string[],
  logger: Logger,
): () => Promise<void> {
  const queues = models.map((m) => new Queue(queueName(m), { connection, prefix }));
  for (const q of queues)
    q.on('error', (err) => logger.warn({ err: err.message, queue: q.name }, 'job trimmer queue error'));
  const completedMs = ageMs(INFER_JOB_OPTIONS.removeOnComplete);
  const failedMs = ageMs(INFER_JOB_OPTIONS.removeOnFail);
  const trim = async () => {
    for (const q of queues) {
      await q.clean(completedMs, TRIM_BATCH, 'completed');
      await q.clean(failedMs, TRIM_BATCH, 'failed');
    }
  };
  const timer = setInterval(
    () => void trim().catch((err: Error) => logger.warn({ err: err.message }, 'trimming finished jobs failed')),
    TRIM_INTERVAL_MS,
  );
  timer.unref();
  return async () => {
    clearInterval(timer);
    await Promise.allSettled(queues.map((q) => q.close()));
  };
}
