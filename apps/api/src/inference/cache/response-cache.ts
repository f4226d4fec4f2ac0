import type { CachePolicy, InferRequestPart, ModelSpec } from '@tessera/contract';
import type { Principal } from '../../auth/key-store.js';
import { RedisKeys } from '@tessera/queue';
import type { Counter } from '@tessera/telemetry';

export type CacheOutcome = 'hit' | 'miss';

/**
 * Whose cache entries a caller sees: its key's own (`k:<id>`), or its group's (`g:<name>`) when
 * the key was created with a cache group. Entries are never shared across tenants, so a hit
 * (X-Cache, or its speed) cannot tell one customer what another asked.
 */
export function cacheTenant(principal: Pick<Principal, 'id' | 'cacheGroup'> | undefined): string {
  if (principal?.cacheGroup) return `g:${principal.cacheGroup}`;
  return `k:${principal?.id ?? 'anonymous'}`;
}

/**
 * Inference results in Redis under RedisKeys.cacheEntry (`<prefix>:cache:<tenant>:<model>:<request hash>`), with the
 * model's TTL, never larger than its size bound, and all entries together within `budgetBytes`
 * (cache-budget.ts in the queue package). Nothing here talks to Redis: the lookup rides on the
 * admission script (see JobCoalescer), and the worker stores a success in the script that
 * delivers its reply, so the cache adds no round trip to a request.
 */
export class ResponseCache {
  private readonly keys: RedisKeys;

  constructor(
    prefix: string,
    private readonly requests: Counter<'model' | 'result'>,
    private readonly budgetBytes?: number,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  key(model: ModelSpec, hash: string, tenant: string): string {
    return this.keys.cacheEntry(tenant, model.name, hash);
  }

  /** Where the worker stores this request's result (see InferRequestPart.cache). */
  entry(model: ModelSpec, hash: string, policy: CachePolicy, tenant: string): NonNullable<InferRequestPart['cache']> {
    return {
      key: this.key(model, hash, tenant),
      ttlMs: policy.ttlS * 1000,
      maxBytes: policy.maxEntryBytes,
      ...(this.budgetBytes ? { budgetBytes: this.budgetBytes } : {}),
    };
  }

  count(model: ModelSpec, outcome: CacheOutcome): void {
    this.requests.inc({ model: model.name, result: outcome });
  }
}
