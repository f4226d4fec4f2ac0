import { createHash } from 'node:crypto';
import { modelKey } from '@tessera/contract';

/**
 * The BullMQ queue of a model. BullMQ keys are `<prefix>:infer.<model>:<suffix>`; the autoscaler
 * in deploy/k8s reads the same names.
 */
export function queueName(model: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(model)) throw new Error(`model name '${model}' cannot name a queue`);
  return `infer.${model}`;
}

/** The admission state of one model (see admission.ts). */
export interface AdmissionKeys {
  /** Sorted set: one member `<request id>|<items>` per admitted request, scored by when it stops mattering. */
  zset: string;
  /** The sum of the members' items. */
  counter: string;
  /** Hash: member → the owner (API key or client) it is charged to. */
  owners: string;
  /** Hash: owner → items it holds. */
  usage: string;
}

/** The idempotency state of one key (see idempotency.ts). */
export interface IdempotencyKeys {
  /** Hash {fp, jobId}: the request's fingerprint and the job computing it. */
  record: string;
  /** The successful reply, kept for the idempotency TTL. */
  result: string;
  /** Set: reply lists of replicas that attached to the job in flight. */
  replies: string;
}

/** The response cache's byte budget (see cache-budget.ts). */
export interface CacheBudgetKeys {
  /** Sorted set: every entry's key, scored by when it expires (epoch ms). */
  index: string;
  /** Hash: every entry's key → its cost in bytes. */
  sizes: string;
  /** The sum of those costs. */
  total: string;
}

/**
 * Every Redis key name the project uses, under one prefix (QUEUE_PREFIX). The worker's ACL
 * (packages/topology/src/redis-auth.ts, WORKER_KEY_FAMILIES) allows the families the worker
 * touches and nothing else; redis-auth.test.ts there checks both lists against each other.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** A key of a model's BullMQ queue, e.g. `active` or a job id. */
  queue(model: string, suffix: string): string {
    return `${this.prefix}:${queueName(model)}:${suffix}`;
  }

  /** The reply list of one API replica. */
  reply(replicaId: string): string {
    return `${this.prefix}:reply:${replicaId}`;
  }

  /** A large input's raw bytes (see WireTensor.blob). */
  blob(requestId: string, input: number): string {
    return `${this.prefix}:blob:${requestId}:${input}`;
  }

  /** Sorted set of live workers, scored by their last heartbeat. */
  get workers(): string {
    return `${this.prefix}:workers`;
  }

  /** What one worker says about itself (WorkerInfo), expiring with its heartbeat. */
  worker(workerId: string): string {
    return `${this.prefix}:worker:${workerId}`;
  }

  admission(model: string): AdmissionKeys {
    const zset = `${this.prefix}:admission:${model}`;
    return { zset, counter: `${zset}:items`, owners: `${zset}:owner`, usage: `${zset}:usage` };
  }

  /** `key` is already scoped by the caller to API key, model and version. */
  idempotency(key: string): IdempotencyKeys {
    const record = `${this.prefix}:idem:${key}`;
    return { record, result: `${record}:result`, replies: `${record}:replies` };
  }

  /** A response-cache entry: `tenant` is whose entries they are (cacheTenant), `hash` the request's. */
  cacheEntry(tenant: string, model: string, hash: string): string {
    return `${this.prefix}:cache:${tenant}:${model}:${hash}`;
  }

  get cacheBudget(): CacheBudgetKeys {
    return {
      index: `${this.prefix}:cache:index`,
      sizes: `${this.prefix}:cache:sizes`,
      total: `${this.prefix}:cache:bytes`,
    };
  }

  /** Inference statistics of one model version (a hash of counters, see InferenceStatistics). */
  stats(model: string, version: string): string {
    return `${this.prefix}:stats:${modelKey({ name: model, version })}`;
  }

  /** Hash of the model versions loaded or unloaded through the repository API (model → ControlEntry). */
  get repositoryControl(): string {
    return `${this.prefix}:repository:control`;
  }

  /** Counter of repository changes. */
  get repositoryGeneration(): string {
    return `${this.repositoryControl}:generation`;
  }

  /** The channel that tells workers or replicas to apply the repository's control state. */
  repositoryChannel(audience: 'workers' | 'replicas'): string {
    return `${this.repositoryControl}:${audience}`;
  }

  /** How many subscribers of `audience` applied change `generation`. */
  repositoryAck(audience: 'workers' | 'replicas', generation: number): string {
    return `${this.repositoryControl}:ack:${audience}:${generation}`;
  }

  /** Prepended to every rate-limit counter (`key:<id>` or `ip:<address>`). */
  get rateLimitPrefix(): string {
    return `${this.prefix}:ratelimit:`;
  }

  /** An API key's record (JSON, with the key's hash, never the key). */
  apiKey(id: string): string {
    return `${this.prefix}:apikey:${id}`;
  }

  /** Set of every API key id. */
  get apiKeys(): string {
    return `${this.prefix}:apikeys`;
  }

  /** A dashboard session, under its id's SHA-256: a copy of Redis holds no live session id. */
  session(id: string): string {
    return `${this.prefix}:session:${createHash('sha256').update(id).digest('hex')}`;
  }

  /** Failed authentications of one client address (already reduced to its /56 for IPv6). */
  authFailures(address: string): string {
    return `${this.prefix}:authfail:${address}`;
  }
}
