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
 * Items in a model's jobs not yet taken by a worker, read from BullMQ's own keys (the wait and
 * paused lists, the prioritized set, each job's `data`). Requests that reach a replica together
 * share a job, so a test that paused a queue knows every admitted request is queued when this
 * equals the admitted items, whatever number of jobs carries them.
 */
export function queuedItems(redisUrl: string, model: string, prefix = 'tessera'): Promise<number> {
  const queue = `${prefix}:infer.${model}`;
  return withRedis(redisUrl, async (redis) => {
    const ids = [
      ...(await redis.lrange(`${queue}:wait`, 0, -1)),
      ...(await redis.lrange(`${queue}:paused`, 0, -1)),
      ...(await redis.zrange(`${queue}:prioritized`, 0, -1)),
    ];
    let items = 0;
    for (const id of ids) {
      const data = await redis.hget(`${queue}:${id}`, 'data');
      const parts = data ? (JSON.parse(data) as { requests?: { items?: number }[] }).requests : undefined;
      for (const part of parts ?? []) items += part.items ?? 0;
    }
    return items;
  });
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
