import type { Redis } from 'ioredis';
import { ipKeyGenerator } from 'express-rate-limit';
import { RedisKeys } from '@tessera/queue';

/**
 * Counts failed authentications per client address across all replicas (one Redis counter per
 * address and window). Only failures are counted, so a valid key costs nothing here; past the
 * limit further failures get 429 instead of 401, which makes guessing keys pointless.
 */
export class FailureLimit {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Records one failure; returns the seconds to wait when the address is over the limit. */
  async fail(ip: string): Promise<number | undefined> {
    if (!this.enabled) return undefined;
    // IPv6 clients are counted per /56, as express-rate-limit does, so one host cannot rotate addresses.
    const key = this.keys.authFailures(ipKeyGenerator(ip));
    const out = await this.redis.multi().incr(key).pexpire(key, this.windowMs, 'NX').pttl(key).exec();
    const count = Number(out?.[0]?.[1] ?? 0);
    const ttl = Number(out?.[2]?.[1] ?? this.windowMs);
    return count > this.limit ? Math.max(1, Math.ceil(ttl / 1000)) : undefined;
  }
}
