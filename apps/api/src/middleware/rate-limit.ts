import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { ipKeyGenerator, rateLimit, type IncrementResponse } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { ServiceError } from '@tessera/contract';
import type { Logger } from '@tessera/telemetry';

export interface RateLimitOptions {
  redis: Redis;
  prefix: string;
  /** Requests per window for keys without their own limit; 0 means no limit. */
  limit: number;
  windowMs: number;
  logger: Logger;
}

/** Redis is the rate limiter's memory; a command it does not answer in time lets the request through. */
const STORE_TIMEOUT_MS = 1000;

/** Between reconnection attempts, or closed: a command would only wait for ioredis's retries. */
export function isDown(redis: Redis): boolean {
  return redis.status === 'reconnecting' || redis.status === 'close' || redis.status === 'end';
}

/**
 * rate-limit-redis loads its Lua script once, when the limiter is created, and keeps a failed
 * load forever: an API that started while Redis was away would never limit again. This store
 * loads it again on the next request instead.
 */
class ResilientRedisStore extends RedisStore {
  private lastWarning = 0;

  constructor(
    options: ConstructorParameters<typeof RedisStore>[0],
    private readonly logger: Logger,
  ) {
    super(options);
  }

  /** A failure lets the request through (counted as the window's first hit), logged once per 10 s. */
  override async increment(key: string): Promise<IncrementResponse> {
    try {
      await this.incrementScriptSha.catch(() => {
        this.incrementScriptSha = this.loadIncrementScript();
      });
      return await super.increment(key);
    } catch (err) {
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.logger.warn({ err: (err as Error).message }, 'rate limiter cannot reach Redis; requests pass unlimited meanwhile');
      }
      return { totalHits: 1, resetTime: new Date(Date.now() + this.windowMs) };
    }
  }
}

function limitOf(req: Request, fallback: number): number {
  return req.principal?.rateLimit ?? fallback;
}

/**
 * Per-key rate limit over a fixed window, counted in Redis so that it holds across every API
 * replica rather than once per replica. Unauthenticated requests (AUTH=off) are counted per
 * client address. Answers carry the IETF draft-8 `RateLimit` and `RateLimit-Policy` headers,
 * and 429s a `Retry-After`. When Redis fails, requests pass: inference then answers 503 itself.
 */
export function perKeyRateLimit(opts: RateLimitOptions): RequestHandler {
  const store = new ResilientRedisStore({
    prefix: `${opts.prefix}:ratelimit:`,
    sendCommand: (command: string, ...args: string[]) => {
      // While the connection is down, fail at once rather than after ioredis's retries.
      if (isDown(opts.redis)) return Promise.reject(new Error(`Redis connection is ${opts.redis.status}`));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Redis did not answer the rate limiter in time')), STORE_TIMEOUT_MS);
      });
      return Promise.race([opts.redis.call(command, ...args) as Promise<RedisReply>, timeout]).finally(() => clearTimeout(timer));
    },
  }, opts.logger);
  return rateLimit({
    windowMs: opts.windowMs,
    limit: (req) => limitOf(req, opts.limit),
    skip: (req) => limitOf(req, opts.limit) === 0,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => (req.principal && req.principal.id !== 'anonymous' ? `key:${req.principal.id}` : `ip:${ipKeyGenerator(req.ip ?? '')}`),
    store,
    passOnStoreError: true,
    handler: (req, _res, next, options) => {
      const who = req.principal && req.principal.id !== 'anonymous' ? `API key '${req.principal.name}'` : `address ${req.ip}`;
      const limit = limitOf(req, opts.limit);
      next(new ServiceError('rate_limited', `rate limit exceeded: ${who} may send ${limit} requests per ${Math.round(options.windowMs / 1000)} s`));
    },
  });
}
