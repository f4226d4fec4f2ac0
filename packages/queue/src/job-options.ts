import type { JobsOptions } from 'bullmq';

/**
 * Results travel back on the reply list; the completed job keeps its return value only briefly,
 * for the API's fallback lookup when a reply is late. Failures are final: every failure the
 * worker reports is deterministic for that input, while crashed workers are handled by BullMQ's
 * stalled-job recovery, which re-queues the job.
 */
export const INFER_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: { age: 60, count: 10_000 },
  removeOnFail: { age: 300, count: 10_000 },
  attempts: 1,
};

/** How long a reply list lives without a reader (a replica that went away). */
export const REPLY_TTL_MS = 120_000;
