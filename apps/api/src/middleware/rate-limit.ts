import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { ServiceError } from '@tessera/contract';
import type { Logger } from '@tessera/telemetry';
import { RedisRateLimitStore } from './rate-limit-store.js';

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

function limitOf(req: Request, fallback: number): number {
  return req.principal?.rateLimit ?? fallback;
}

/**
 * Per-key rate limit over a fixed window, counted in Redis so that it holds across every API
 * replica rather than once per replica; concurrent requests share one Redis script per batch
 * (RedisRateLimitStore), with exact counts. Unauthenticated requests (AUTH=off) are counted per
 * client address. Answers carry the IETF draft-8 `RateLimit` and `RateLimit-Policy` headers,
 * and 429s a `Retry-After`. When Redis fails, requests pass: inference then answers 503 itself.
 */
export function perKeyRateLimit(opts: RateLimitOptions): RequestHandler {
  const store = new RedisRateLimitStore({ redis: opts.redis, prefix: `${opts.prefix}:ratelimit:`, logger: opts.logger, timeoutMs: STORE_TIMEOUT_MS });
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
