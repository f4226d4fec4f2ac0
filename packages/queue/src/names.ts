import type { JobsOptions } from 'bullmq';

/**
 * Redis naming shared by both tiers. BullMQ keys are `<prefix>:infer.<model>:<suffix>`; the
 * autoscaler in deploy/k8s reads the same names.
 */
export function queueName(model: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(model)) throw new Error(`model name '${model}' cannot name a queue`);
  return `infer.${model}`;
}

export function replyKey(prefix: string, replicaId: string): string {
  return `${prefix}:reply:${replicaId}`;
}

/** Large inputs' raw bytes: `<prefix>:blob:<request id>:<input index>` (see WireTensor.blob). */
export function blobKeyPrefix(prefix: string): string {
  return `${prefix}:blob:`;
}

export function heartbeatKey(prefix: string): string {
  return `${prefix}:workers`;
}

export function workerInfoKey(prefix: string, workerId: string): string {
  return `${prefix}:worker:${workerId}`;
}

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

/** Inference statistics of one model version (a hash of counters, see InferenceStatistics). */
export function statsKey(prefix: string, model: string, version: string): string {
  return `${prefix}:stats:${model}@${version}`;
}

/** The model versions loaded or unloaded through the repository API, and its change channel. */
export function repositoryControlKey(prefix: string): string {
  return `${prefix}:repository:control`;
}
