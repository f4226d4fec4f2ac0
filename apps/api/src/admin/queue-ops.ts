import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { InferJobData } from '@tessera/contract';
import { Admission, deliverReply, REPLY_TTL_MS } from '@tessera/queue';

/** Operator actions on one model's queue, shared by the admin endpoints and the CLI. */
export interface QueueStatus {
  model: string;
  paused: boolean;
  counts: Record<string, number>;
  /** Items admitted under the model's queue cap and not yet answered. */
  in_flight_items: number;
}

export async function queueStatus(queue: Queue, redis: Redis, prefix: string, model: string): Promise<QueueStatus> {
  const [paused, counts, inFlight] = await Promise.all([
    queue.isPaused(),
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'paused', 'completed', 'failed'),
    new Admission(redis, prefix).inFlight(model),
  ]);
  return { model, paused, counts, in_flight_items: inFlight };
}

/** Workers stop taking this model's jobs; queued jobs stay (and expire at their deadlines). */
export async function pauseQueue(queue: Queue): Promise<void> {
  await queue.pause();
}

export async function resumeQueue(queue: Queue): Promise<void> {
  await queue.resume();
}

/**
 * Removes every job no worker has taken yet and answers each of its requests' waiting clients at
 * once (503), instead of letting them wait for their deadlines. Jobs already running finish.
 * Returns the number of requests removed (a job may carry several).
 */
export async function drainQueue(queue: Queue, redis: Redis, prefix: string, model: string): Promise<number> {
  let removed = 0;
  for (let round = 0; round < 1000; round++) {
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'paused'], 0, 499);
    let progressed = false;
    for (const job of jobs) {
      if (!job?.id) continue;
      try {
        await job.remove();
      } catch {
        continue; // a worker took it meanwhile, or it is already gone
      }
      progressed = true;
      const data = job.data as InferJobData;
      const message = `the queue of model '${model}' was drained by an operator; the request was not run`;
      for (const part of Array.isArray(data.requests) ? data.requests : []) {
        const delivery = { prefix, model, replyTo: data.replyTo, items: part.items, idempotency: part.idempotency };
        await deliverReply(
          redis,
          delivery,
          { requestId: part.requestId, ok: false, error: { code: 'not_ready', message } },
          REPLY_TTL_MS,
        ).catch(() => {
          // The notice is a courtesy: a waiter that does not get it answers 504 at its deadline.
        });
        removed++;
      }
    }
    if (!progressed) break;
  }
  return removed;
}
