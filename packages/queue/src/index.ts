// What the API and the worker use, with the types of its signatures; the other scripts, their codecs and the
// key layouts stay inside.
export { RedisKeys, queueName } from './keys.js';
export { INFER_JOB_OPTIONS, REPLY_TTL_MS } from './job-options.js';
export { connectRedis, type RedisEndpoint } from './connection.js';
export { Admission } from './admission.js';
export {
  ADMISSION_GRACE_MS,
  type AdmissionOutcome,
  type AdmissionRequest,
  type PlannedJob,
  type QueueShare,
  type RateCount,
  type RateState,
} from './commands/admit.js';
export { IdempotencyStore } from './idempotency.js';
export type { Claim } from './commands/claim-idempotency.js';
export { deliverReplies, deliverReply, type Delivered, type Delivery } from './delivery.js';
export { ReplyListener, ReplyTimeoutError } from './reply.js';
export { ReplySender } from './reply-sender.js';
export { Heartbeat, WorkerRegistry, type WorkerInfo } from './heartbeat.js';
export {
  InferenceStatistics,
  parseStats,
  STATISTICS_FLUSH_MS,
  type ModelVersionStats,
  type RequestRecord,
} from './statistics.js';
export { RepositoryControl, type Audience, type ControlEntry, type ControlState } from './repository-control.js';
export { incrementCounters, type CounterState } from './commands/increment-counters.js';
