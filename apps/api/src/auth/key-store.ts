import type { Redis } from 'ioredis';
import { RedisKeys } from '@tessera/queue';
import { generateKey, keyId, matchesHash } from './key-format.js';

export const SCOPES = ['infer', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What a key may do. Stored in Redis as JSON, with the hash of the key and never the key. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: Scope[];
  /** Requests per rate-limit window; the service default when absent. */
  rateLimit?: number;
  /** Models (or text/image pipelines) the key may use; all when absent. */
  models?: string[];
  /** Priorities the key may ask for, inclusive (1 = highest); any when absent. */
  priority?: { min: number; max: number };
  /** Keys of one group share response-cache entries; a key without one sees only its own. */
  cacheGroup?: string;
  createdAt: string;
  hash: string;
}

export type Principal = Omit<ApiKeyRecord, 'hash'>;

export interface NewKeyOptions {
  name: string;
  scopes: Scope[];
  rateLimit?: number | undefined;
  models?: string[] | undefined;
  priority?: { min: number; max: number } | undefined;
  cacheGroup?: string | undefined;
}

const CACHE_LIMIT = 10_000;

/**
 * API keys in Redis, shared by every replica. Lookups are cached per replica for at most
 * `cacheMs` (≤ 1 s), which bounds how long a revoked key keeps working anywhere.
 */
export class KeyStore {
  private readonly cache = new Map<string, { at: number; record: ApiKeyRecord | null }>();
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly cacheMs = 1000,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /** Creates a key; the returned `key` is the only time it exists outside the client. */
  async create(opts: NewKeyOptions): Promise<{ key: string; record: ApiKeyRecord }> {
    const { id, key, hash } = generateKey();
    const record: ApiKeyRecord = {
      id,
      name: opts.name,
      scopes: [...new Set(opts.scopes)],
      ...(opts.rateLimit !== undefined ? { rateLimit: opts.rateLimit } : {}),
      ...(opts.models?.length ? { models: opts.models } : {}),
      ...(opts.priority ? { priority: opts.priority } : {}),
      ...(opts.cacheGroup ? { cacheGroup: opts.cacheGroup } : {}),
      createdAt: new Date().toISOString(),
      hash,
    };
    const created = await this.redis.set(this.keys.apiKey(id), JSON.stringify(record), 'NX');
    if (created !== 'OK') throw new Error('key id collision; try again');
    await this.redis.sadd(this.keys.apiKeys, id);
    return { key, record };
  }

  async list(): Promise<ApiKeyRecord[]> {
    const ids = await this.redis.smembers(this.keys.apiKeys);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.apiKey(id)));
    return raws
      .flatMap((r) => (r ? [JSON.parse(r) as ApiKeyRecord] : []))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Revokes the key with this id, or every key with this name; returns what was revoked. */
  async revoke(idOrName: string): Promise<ApiKeyRecord[]> {
    const victims = (await this.list()).filter((r) => r.id === idOrName || r.name === idOrName);
    for (const r of victims) {
      await this.redis.multi().del(this.keys.apiKey(r.id)).srem(this.keys.apiKeys, r.id).exec();
    }
    return victims;
  }

  /** The key's record when the presented key is valid; null when unknown, revoked or wrong. */
  async verify(key: string): Promise<ApiKeyRecord | null> {
    const id = keyId(key);
    if (!id) return null;
    const record = await this.lookup(id);
    return record && matchesHash(key, record.hash) ? record : null;
  }

  /** The record of the key with this id (a dashboard session names its key by id). */
  async byId(id: string): Promise<ApiKeyRecord | null> {
    return /^[0-9a-f]{12}$/.test(id) ? this.lookup(id) : null;
  }

  private async lookup(id: string): Promise<ApiKeyRecord | null> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < this.cacheMs) return hit.record;
    const raw = await this.redis.get(this.keys.apiKey(id));
    const record = raw ? (JSON.parse(raw) as ApiKeyRecord) : null;
    if (this.cacheMs > 0) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(id, { at: now, record });
    }
    return record;
  }
}

export function principalOf(record: ApiKeyRecord): Principal {
  const { hash: _hash, ...rest } = record;
  return rest;
}
