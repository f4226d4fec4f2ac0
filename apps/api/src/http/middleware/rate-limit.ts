import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { ServiceError } from '@tessera/contract';
import { RedisKeys } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';
import type { Principal } from '../../auth/key-store.js';
import type { ApiContext } from '../../context.js';
import { rateExceeded, type RateCharge } from '../../inference/rate-charge.js';
import { RedisRateLimitStore } from './rate-limit-store.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** An inference request's rate-limit count, left to the admission script (see RateCharge). */
      rateCharge?: RateCharge;
      /** How the count of `rateCharge` is reported: its draft-8 policy (see setRateHeaders). */
      ratePolicy?: RatePolicy;
    }
  }
}

/** The draft-8 `RateLimit-Policy` of a counted request: its name, limit, window and partition key. */
interface RatePolicy {
  name: string;
  limit: number;
  windowS: number;
  pk: string;
}

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
/** Keys each of the replica's maps remembers (over their limit; their `pk`) before it is pruned. */
const KEYS_REMEMBERED_MAX = 10_000;

/** Who a request is counted as: its API key, or its client address when it has none. */
type Counted = { principal?: Principal | undefined; ip?: string | undefined };

function limitOf(req: Counted, fallback: number): number {
  return req.principal?.rateLimit ?? fallback;
}

const keyOf = (req: Counted): string =>
  req.principal && req.principal.id !== 'anonymous' ? `key:${req.principal.id}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;
const whoOf = (req: Counted): string =>
  req.principal && req.principal.id !== 'anonymous' ? `API key '${req.principal.name}'` : `address ${req.ip}`;

/** The policy's name in the draft-8 headers, as express-rate-limit names it ("60-in-1min"). */
export function policyName(limit: number, windowMs: number): string {
  const seconds = windowMs / 1000;
  const minutes = seconds / 60;
  const hours = minutes / 60;
  const days = hours / 24;
  const duration =
    seconds < 60
      ? `${seconds}sec`
      : minutes < 60
        ? `${minutes}min`
        : hours < 24
          ? `${hours}hr${hours > 1 ? 's' : ''}`
          : `${days}day${days > 1 ? 's' : ''}`;
  return `${limit}-in-${duration}`;
}

/** The `pk` parameter of RateLimit-Policy, as express-rate-limit derives it from the counter's key. */
function partitionKey(key: string): string {
  return Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
}

/**
 * The draft-8 headers of the count the admission took, exactly as express-rate-limit writes them
 * for the other routes: on every answer of a counted inference request, a refusal included.
 */
export function setRateHeaders(res: Response, req: Pick<Request, 'rateCharge' | 'ratePolicy'>): void {
  const state = req.rateCharge?.state;
  const policy = req.ratePolicy;
  if (!state || !policy || res.headersSent) return;
  const remaining = Math.max(0, policy.limit - state.count);
  // Set, not appended: a pipeline request is counted once per call and reports the last count.
  res.setHeader('RateLimit', `"${policy.name}"; r=${remaining}; t=${Math.max(0, Math.ceil(state.resetMs / 1000))}`);
  res.setHeader('RateLimit-Policy', `"${policy.name}"; q=${policy.limit}; w=${policy.windowS}; pk=:${policy.pk}:`);
}

/**
 * Per-key rate limit over a fixed window, counted in Redis so that it holds across every API
 * replica rather than once per replica. Unauthenticated requests (AUTH=off) are counted per
 * client address. Answers carry the IETF draft-8 `RateLimit` and `RateLimit-Policy` headers,
 * and 429s a `Retry-After`. When Redis fails, requests pass: inference then answers 503 itself.
 *
 * Two ways to count, one counter:
 * - inference (POST under the `infer` routes): the count rides on the admission script
 *   (RateCharge), so that it costs no round trip of its own; a key found over its limit is
 *   then refused by this replica without asking Redis until its window ends;
 * - everything else: express-rate-limit, with concurrent increments coalesced into one Redis
 *   script per batch (RedisRateLimitStore), with exact counts.
 */
export class PerKeyRateLimit {
  readonly store: RedisRateLimitStore;
  /** Counter keys over their limit, and until when (epoch ms). */
  private readonly blocked = new Map<string, number>();
  private readonly pk = new Map<string, string>();
  /** Counts now, through express-rate-limit (one instance: it refuses to share its store with another). */
  readonly immediate: RequestHandler;

  /** The limit a replica's configuration sets, as each of its front doors (HTTP, gRPC) applies it. */
  static of(ctx: Pick<ApiContext, 'redis' | 'config' | 'logger'>): PerKeyRateLimit {
    const { config } = ctx;
    return new PerKeyRateLimit({
      redis: ctx.redis,
      prefix: config.QUEUE_PREFIX,
      limit: config.RATE_LIMIT,
      windowMs: config.RATE_LIMIT_WINDOW_MS,
      logger: ctx.logger,
    });
  }

  constructor(private readonly opts: RateLimitOptions) {
    this.store = new RedisRateLimitStore({
      redis: opts.redis,
      prefix: new RedisKeys(opts.prefix).rateLimitPrefix,
      logger: opts.logger,
      timeoutMs: STORE_TIMEOUT_MS,
    });
    this.immediate = rateLimit({
      windowMs: opts.windowMs,
      limit: (req) => limitOf(req, opts.limit),
      skip: (req) => limitOf(req, opts.limit) === 0,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      identifier: (req) => policyName(limitOf(req, opts.limit), opts.windowMs),
      keyGenerator: keyOf,
      store: this.store,
      passOnStoreError: true,
      // express-rate-limit has set Retry-After already.
      handler: (req, _res, next) => next(this.refusal(req, limitOf(req, opts.limit))),
    });
  }

  /** Inference routes: POSTs leave their count to the admission (see RateCharge); the rest count now. */
  deferred(): RequestHandler {
    return (req, res, next) => {
      const limit = limitOf(req, this.opts.limit);
      if (req.method !== 'POST' || limit === 0) return this.immediate(req, res, next);
      const pending = this.defer(req)!;
      req.rateCharge = pending.charge;
      req.ratePolicy = this.policy(keyOf(req), limit);
      res.once('close', pending.release);
      next(pending.refused);
    };
  }

  /**
   * An inference's count, left to its admission, for any transport: undefined when the key has
   * no limit. While this replica knows the key to be over its limit, `refused` is the 429 to
   * answer with at once (and the charge holds the count that says so). `release()`, called when
   * the request has been answered, counts a request that never reached an admission, and
   * remembers a key the admission found over its limit.
   */
  defer(who: Counted): { charge: RateCharge; release: () => void; refused?: ServiceError } | undefined {
    const limit = limitOf(who, this.opts.limit);
    if (limit === 0) return undefined;
    const key = keyOf(who);
    const charge: RateCharge = {
      count: { key: this.store.prefix + key, limit, windowMs: this.opts.windowMs },
      who: whoOf(who),
      issued: false,
    };
    const release = () => {
      const { state, countedAt } = charge;
      if (state) {
        if (state.count > limit) this.block(key, state.resetMs - (Date.now() - (countedAt ?? Date.now())));
        return;
      }
      charge.state = { count: 0, resetMs: 0 }; // counted once, however often release() is called
      void this.store.increment(key).then((hits) => {
        if (hits.totalHits > limit && hits.resetTime) this.block(key, hits.resetTime.getTime() - Date.now());
      });
    };
    const until = this.blocked.get(key);
    if (until !== undefined) {
      const left = until - Date.now();
      if (left > 0) {
        charge.state = { count: limit + 1, resetMs: left };
        charge.countedAt = Date.now();
        return { charge, release: () => {}, refused: rateExceeded(charge.who, charge.count, left) };
      }
      this.blocked.delete(key);
    }
    return { charge, release };
  }

  /** Counts a request other than an inference now, for transports other than Express (which use `immediate`); Redis failing lets it pass. */
  async countNow(who: Counted): Promise<void> {
    const limit = limitOf(who, this.opts.limit);
    if (limit === 0) return;
    const hits = await this.store.increment(keyOf(who)).catch(() => undefined);
    if (hits && hits.totalHits > limit)
      throw this.refusal(who, limit, hits.resetTime ? hits.resetTime.getTime() - Date.now() : undefined);
  }

  private block(key: string, forMs: number): void {
    if (forMs <= 0) return;
    if (this.blocked.size >= KEYS_REMEMBERED_MAX) {
      const now = Date.now();
      for (const [k, until] of this.blocked) if (until <= now) this.blocked.delete(k);
    }
    this.blocked.set(key, Date.now() + forMs);
  }

  /** The draft-8 policy of a key's counter, as express-rate-limit names it for the other routes. */
  private policy(key: string, limit: number): RatePolicy {
    let pk = this.pk.get(key);
    if (pk === undefined) {
      pk = partitionKey(key);
      if (this.pk.size >= KEYS_REMEMBERED_MAX) this.pk.clear();
      this.pk.set(key, pk);
    }
    return { name: policyName(limit, this.opts.windowMs), limit, windowS: Math.ceil(this.opts.windowMs / 1000), pk };
  }

  /** The 429; with `resetMs`, it carries Retry-After (the seconds left in the window). */
  private refusal(req: Counted, limit: number, resetMs?: number): ServiceError {
    return rateExceeded(whoOf(req), { limit, windowMs: this.opts.windowMs }, resetMs);
  }
}
