import type { Redis } from 'ioredis';
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import { incrementCounters, type CounterState } from '@tessera/queue';
import type { Logger } from '@tessera/telemetry';
import { withTimeout } from '../../inference/with-timeout.js';

/** Between reconnection attempts, or closed: a command would only wait for ioredis's retries. */
export function isDown(redis: Redis): boolean {
  return redis.status === 'reconnecting' || redis.status === 'close' || redis.status === 'end';
}

export interface RedisRateLimitStoreOptions {
  redis: Redis;
  /** Prepended to every key in Redis. */
  prefix: string;
  logger: Logger;
  /** A command Redis does not answer in time fails (the requests waiting on it pass). */
  timeoutMs: number;
}

type Waiter = (hits: IncrementResponse) => void;

/**
 * Fixed-window hit counters in Redis, shared by every replica, for express-rate-limit.
 *
 * A script per request would cost a Redis round trip per request, so increments coalesce: one
 * that finds nothing in flight is sent at once, and those that arrive meanwhile gather per key
 * and go together, as one script, when it returns. The counts stay exact: the script adds n to
 * a key and returns its total T, and the n requests waiting get T-n+1 … T in the order they came.
 *
 * When Redis is down or slow, every request of the batch passes (counted as the window's first
 * hit) and a warning is logged at most once per 10 s; the next batch tries Redis again.
 */
export class RedisRateLimitStore implements Store {
  readonly localKeys = false;
  readonly prefix: string;
  private windowMs = 60_000;
  private pending = new Map<string, Waiter[]>();
  private syncing = false;
  private lastWarning = 0;

  constructor(private readonly opts: RedisRateLimitStoreOptions) {
    this.prefix = opts.prefix;
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  increment(key: string): Promise<IncrementResponse> {
    return new Promise((resolve) => {
      const waiting = this.pending.get(key);
      if (waiting) waiting.push(resolve);
      else this.pending.set(key, [resolve]);
      if (!this.syncing) void this.sync();
    });
  }

  async decrement(key: string): Promise<void> {
    await this.command((redis) => redis.decr(this.prefix + key));
  }

  async resetKey(key: string): Promise<void> {
    await this.command((redis) => redis.del(this.prefix + key));
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const out = await this.command((redis) =>
      redis
        .multi()
        .get(this.prefix + key)
        .pttl(this.prefix + key)
        .exec(),
    );
    const hits = out?.[0]?.[1];
    const ttl = Number(out?.[1]?.[1]);
    if (typeof hits !== 'string') return undefined;
    return { totalHits: Number(hits), resetTime: ttl > 0 ? new Date(Date.now() + ttl) : undefined };
  }

  /** Sends what is pending, then what gathered meanwhile, until nothing is left; one batch at a time. */
  private async sync(): Promise<void> {
    this.syncing = true;
    try {
      while (this.pending.size > 0) {
        const batch = this.pending;
        this.pending = new Map();
        await this.send(batch);
      }
    } finally {
      this.syncing = false;
    }
  }

  /** Runs one batch and answers everyone waiting on it; never rejects. */
  private async send(batch: Map<string, Waiter[]>): Promise<void> {
    const waiters = [...batch.values()];
    const counters = [...batch].map(([key, waiting]) => ({ key: this.prefix + key, hits: waiting.length }));
    let out: CounterState[];
    try {
      out = await this.command((redis) => incrementCounters.run(redis, { windowMs: this.windowMs, counters }));
    } catch (err) {
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.opts.logger.warn(
          { err: (err as Error).message },
          'rate limiter cannot reach Redis; requests pass unlimited meanwhile',
        );
      }
      const pass = { totalHits: 1, resetTime: new Date(Date.now() + this.windowMs) };
      for (const resolve of waiters.flat()) resolve(pass);
      return;
    }
    const now = Date.now();
    for (const [i, waiting] of waiters.entries()) {
      const { total, ttlMs } = out[i]!;
      const resetTime = new Date(now + ttlMs);
      for (const [j, resolve] of waiting.entries()) resolve({ totalHits: total - waiting.length + 1 + j, resetTime });
    }
  }

  /** A command that fails at once while the connection is down, and after timeoutMs without an answer. */
  private command<T>(run: (redis: Redis) => Promise<T>): Promise<T> {
    const { redis, timeoutMs } = this.opts;
    if (isDown(redis)) return Promise.reject(new Error(`Redis connection is ${redis.status}`));
    return withTimeout(run(redis), timeoutMs, 'Redis did not answer the rate limiter in time');
  }
}
