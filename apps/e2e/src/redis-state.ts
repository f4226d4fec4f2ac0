import { Redis } from 'ioredis';

/** What the service keeps in Redis, read by tests that wait for a step to have happened. */
async function withRedis<T>(redisUrl: string, read: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    return await read(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * Jobs admitted for a model and not yet finished. The admission's sorted set holds one member
 * per admitted job (packages/queue/src/admission.ts), whatever number of requests shares it, so
 * a test that paused a queue knows every admitted request is queued when this many jobs are.
 */
export function admittedJobs(redisUrl: string, model: string, prefix = 'tessera'): Promise<number> {
  return withRedis(redisUrl, (redis) => redis.zcard(`${prefix}:admission:${model}`));
}

/**
 * Replicas attached to idempotent jobs in flight, over every idempotency key: a retry that
 * attaches adds its reply list to the key's `:replies` set (packages/queue/src/idempotency.ts).
 */
export function attachedRetries(redisUrl: string, prefix = 'tessera'): Promise<number> {
  return withRedis(redisUrl, async (redis) => {
    let total = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:idem:*:replies`, 'COUNT', 1000);
      for (const key of keys) total += await redis.scard(key);
      cursor = next;
    } while (cursor !== '0');
    return total;
  });
}
