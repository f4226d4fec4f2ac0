import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { ServiceError } from '@tessera/contract';
import type { RateCount, RateState } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';
import type { Principal } from '../../auth/key-store.js';
import type { RateTicket } from '../../inference/coalescer.js';
import { RedisRateLimitStore } from './rate-limit-store.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** An inference request's rate-limit count, left to the admission script (see rateTicket). */
      rateCount?: DeferredCount;
    }
  }
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
 * An inference request's count, not taken yet: the admission script takes it together with the
 * queue cap and the cache lookup (one Redis round trip for all three). A request that never
 * reaches the admission (a bad body, an unknown model, an idempotent replay) is counted once
 * its answer is sent.
 */
export interface DeferredCount {
  rate: RateCount;
  /** Handed to an admission already (a pipeline's later stages are not counted again). */
  issued: boolean;
  counted: boolean;
  /** Records the count: sets the draft-8 headers; over the limit (`limited`), returns the 429 to answer with. */
  settle(state: RateState, limited: boolean): ServiceError | undefined;
}

/**
 * The request's deferred rate-limit count, once per request (undefined when it has none or it
 * was handed out already); with `eachCall`, one per inference call instead: a pipeline request
 * (texts, images) is charged for every call it makes, so that one request cannot spend the
 * service's work of hundreds (an OCR page costs a detection plus two calls per line). If the
 * admission never reports the count, the request is counted when its answer is sent.
 */
export function rateTicket(req: { rateCount?: DeferredCount | undefined }, eachCall = false): RateTicket | undefined {
  const deferred = req.rateCount;
  if (!deferred || (!eachCall && (deferred.issued || deferred.counted))) return undefined;
  deferred.issued = true;
  return {
    rate: deferred.rate,
    counted: (state, limited) => {
      deferred.counted = true;
      return deferred.settle(state, limited);
    },
  };
}

/**
 * Per-key rate limit over a fixed window, counted in Redis so that it holds across every API
 * replica rather than once per replica. Unauthenticated requests (AUTH=off) are counted per
 * client address. Answers carry the IETF draft-8 `RateLimit` and `RateLimit-Policy` headers,
 * and 429s a `Retry-After`. When Redis fails, requests pass: inference then answers 503 itself.
 *
 * Two ways to count, one counter:
 * - inference (POST under the `infer` routes): the count rides on the admission script
 *   (DeferredCount), so that it costs no round trip of its own; a key found over its limit is
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

  constructor(private readonly opts: RateLimitOptions) {
    this.store = new RedisRateLimitStore({
      redis: opts.redis,
      prefix: `${opts.prefix}:ratelimit:`,
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

  /** Inference routes: POSTs leave their count to the admission (see DeferredCount); the rest count now. */
  deferred(): RequestHandler {
    return (req, res, next) => {
      const limit = limitOf(req, this.opts.limit);
      if (req.method !== 'POST' || limit === 0) return this.immediate(req, res, next);
      let pending;
      try {
        pending = this.defer(req, (state) => this.setHeaders(res, keyOf(req), limit, state))!;
      } catch (err) {
        return next(err);
      }
      req.rateCount = pending.count;
      res.once('close', pending.release);
      next();
    };
  }

  /**
   * An inference's count, left to its admission, for any transport: undefined when the key has
   * no limit; throws the 429 while this replica knows the key to be over its limit. `onCount`
   * gets the count once taken; `release()`, called when the request has been answered, counts
   * a request that never reached an admission.
   */
  defer(
    who: Counted,
    onCount: (state: RateState) => void = () => {},
  ): { count: DeferredCount; release: () => void } | undefined {
    const limit = limitOf(who, this.opts.limit);
    if (limit === 0) return undefined;
    const key = keyOf(who);
    const until = this.blocked.get(key);
    if (until !== undefined) {
      const left = until - Date.now();
      if (left > 0) {
        onCount({ count: limit + 1, resetMs: left });
        throw this.refusal(who, limit, left);
      }
      this.blocked.delete(key);
    }
    const count: DeferredCount = {
      rate: { key: this.store.prefix + key, limit, windowMs: this.opts.windowMs },
      issued: false,
      counted: false,
      settle: (state, limited) => {
        onCount(state);
        if (!limited) return undefined;
        this.block(key, state.resetMs);
        return this.refusal(who, limit, state.resetMs);
      },
    };
    const release = () => {
      if (count.counted) return;
      count.counted = true;
      void this.store.increment(key).then((hits) => {
        if (hits.totalHits > limit && hits.resetTime) this.block(key, hits.resetTime.getTime() - Date.now());
      });
    };
    return { count, release };
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

  /** The draft-8 headers, exactly as express-rate-limit writes them for the other routes. */
  private setHeaders(res: Response, key: string, limit: number, state: RateState): void {
    if (res.headersSent) return;
    let pk = this.pk.get(key);
    if (pk === undefined) {
      pk = partitionKey(key);
      if (this.pk.size >= KEYS_REMEMBERED_MAX) this.pk.clear();
      this.pk.set(key, pk);
    }
    const name = policyName(limit, this.opts.windowMs);
    const remaining = Math.max(0, limit - state.count);
    // Set, not appended: a pipeline request is counted once per call and reports the last count.
    res.setHeader('RateLimit', `"${name}"; r=${remaining}; t=${Math.max(0, Math.ceil(state.resetMs / 1000))}`);
    res.setHeader('RateLimit-Policy', `"${name}"; q=${limit}; w=${Math.ceil(this.opts.windowMs / 1000)}; pk=:${pk}:`);
  }

  /** The 429; with `resetMs`, it carries Retry-After (the seconds left in the window). */
  private refusal(req: Counted, limit: number, resetMs?: number): ServiceError {
    const headers: Record<string, string> =
      resetMs === undefined ? {} : { 'Retry-After': String(Math.max(1, Math.ceil(resetMs / 1000))) };
    return new ServiceError(
      'rate_limited',
      `rate limit exceeded: ${whoOf(req)} may send ${limit} requests per ${Math.round(this.opts.windowMs / 1000)} s`,
      { headers },
    );
  }
}
