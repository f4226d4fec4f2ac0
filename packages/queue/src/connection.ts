import { Redis, type RedisOptions } from 'ioredis';

/** Where Redis is: a URL, or Sentinels that name the current primary. */
export interface RedisEndpoint {
  /** redis://[user:password@]host:port[/db]; with sentinels only its credentials and db are used. */
  REDIS_URL: string;
  REDIS_SENTINELS: readonly { host: string; port: number }[];
  REDIS_SENTINEL_NAME: string;
  /** The Sentinels' own password (`requirepass` in sentinel.conf); '' when they have none. */
  REDIS_SENTINEL_PASSWORD: string;
}

/**
 * The ioredis options of a connection to `endpoint`, `extra` on top. With Sentinels, ioredis
 * asks them for the primary on every (re)connect, so after a failover each connection (BullMQ's
 * duplicates included) finds the new primary by itself.
 */
export function redisOptions(endpoint: RedisEndpoint, extra: RedisOptions = {}): RedisOptions {
  const url = new URL(endpoint.REDIS_URL);
  const credentials = {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
  };
  if (endpoint.REDIS_SENTINELS.length === 0) {
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 6379),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
      ...credentials,
      ...extra,
    };
  }
  return {
    sentinels: endpoint.REDIS_SENTINELS.map((s) => ({ host: s.host, port: s.port })),
    name: endpoint.REDIS_SENTINEL_NAME,
    ...(endpoint.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: endpoint.REDIS_SENTINEL_PASSWORD } : {}),
    ...credentials,
    ...extra,
  };
}

/** A new connection to `endpoint`. */
export function connectRedis(endpoint: RedisEndpoint, extra: RedisOptions = {}): Redis {
  return new Redis(redisOptions(endpoint, extra));
}
