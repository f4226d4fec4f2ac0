import type { CachePolicy, InferRequestPart, ModelSpec } from '@tessera/contract';
import type { Counter } from '@tessera/telemetry';

export type CacheOutcome = 'hit' | 'miss';

/**
 * Inference results in Redis under `<prefix>:cache:<model>:<request hash>`, with the model's
 * TTL, never larger than its size bound. Nothing here talks to Redis: the lookup rides on the
 * admission script (see JobCoalescer), and the worker stores a success in the script that
 * delivers its reply, so the cache adds no round trip to a request.
 */
export class ResponseCache {
  constructor(
    private readonly prefix: string,
    private readonly requests: Counter<'model' | 'result'>,
  ) {}

  key(model: ModelSpec, hash: string): string {
    return `${this.prefix}:cache:${model.name}:${hash}`;
  }

  /** Where the worker stores this request's result (see InferRequestPart.cache). */
  entry(model: ModelSpec, hash: string, policy: CachePolicy): NonNullable<InferRequestPart['cache']> {
    return { key: this.key(model, hash), ttlMs: policy.ttlS * 1000, maxBytes: policy.maxEntryBytes };
  }

  count(model: ModelSpec, outcome: CacheOutcome): void {
    this.requests.inc({ model: model.name, result: outcome });
  }
}
