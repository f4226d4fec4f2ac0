import { Redis } from 'ioredis';

/**
 * Jobs admitted for a model and not yet finished. The admission's sorted set holds one member
 * per admitted job (packages/queue/src/admission.ts), whatever number of requests shares it, so
 * a test that paused a queue knows every admitted request is queued when this many jobs are.
 */
export async function admittedJobs(redisUrl: string, model: string, prefix = 'tessera'): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    return await redis.zcard(`${prefix}:admission:${model}`);
  } finally {
    redis.disconnect();
  }
}
