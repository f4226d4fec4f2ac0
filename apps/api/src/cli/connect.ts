import type { Redis } from 'ioredis';
import { ConfigError, loadApiConfig, type ApiConfig } from '@tessera/config';
import { connectRedis } from '@tessera/queue';

/** The CLIs read REDIS_URL and QUEUE_PREFIX like the API does, and fail fast when Redis is away. */
export function connect(): { config: ApiConfig; redis: Redis } {
  const config = loadApiConfig();
  const redis = connectRedis(config, {
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    retryStrategy: (times) => (times > 2 ? null : 200),
  });
  redis.on('error', () => {}); // reported by the command that fails
  return { config, redis };
}

export function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Runs a CLI's main, printing errors (configuration ones without a stack) and exiting 1. */
export function runCli(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) =>
      fail(err instanceof ConfigError ? err.message : `error: ${(err as Error).message ?? String(err)}`),
  );
}
