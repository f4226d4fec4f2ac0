import type { Redis } from 'ioredis';
import type { CachePolicy, InferJobResult, ModelSpec } from '@tessera/contract';
import type { Counter, Logger } from '@tessera/telemetry';
import { isDown } from '../middleware/rate-limit.js';

/** A cache lookup may not hold a request up for longer than this; past it inference just runs. */
const LOOKUP_TIMEOUT_MS = 250;

export type CacheOutcome = 'hit' | 'miss' | 'error';

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Inference results in Redis under `<prefix>:cache:<model>:<request hash>`, with the model's
 * TTL, never larger than its size bound. The cache is best effort: any Redis error skips it and
 * the request is computed as if nothing were cached.
 */
export class ResponseCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly requests: Counter<'model' | 'result'>,
    private readonly logger: Logger,
  ) {}

  private key(model: ModelSpec, hash: string): string {
    return `${this.prefix}:cache:${model.name}:${hash}`;
  }

  async get(model: ModelSpec, hash: string): Promise<InferJobResult | undefined> {
    let outcome: CacheOutcome = 'miss';
    try {
      if (isDown(this.redis)) throw new Error(`Redis connection is ${this.redis.status}`);
      const raw = await withTimeout(this.redis.getBuffer(this.key(model, hash)), LOOKUP_TIMEOUT_MS);
      if (raw) {
        outcome = 'hit';
        return JSON.parse(raw.toString('utf8')) as InferJobResult;
      }
      return undefined;
    } catch (err) {
      outcome = 'error';
      this.logger.warn({ err: (err as Error).message, model: model.name }, 'response cache unavailable; computing');
      return undefined;
    } finally {
      this.requests.inc({ model: model.name, result: outcome });
    }
  }

  /** Stores a result unless it is larger than the model's bound; never throws. */
  async set(model: ModelSpec, hash: string, result: InferJobResult, policy: CachePolicy): Promise<boolean> {
    const text = JSON.stringify({ outputs: result.outputs, timing: result.timing, provider: result.provider, worker: result.worker });
    if (Buffer.byteLength(text) > policy.maxEntryBytes) return false;
    try {
      await withTimeout(this.redis.set(this.key(model, hash), text, 'EX', policy.ttlS), LOOKUP_TIMEOUT_MS);
      return true;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, model: model.name }, 'could not store a result in the response cache');
      return false;
    }
  }
}
