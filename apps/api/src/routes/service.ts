import { Router } from 'express';
import type { ApiContext } from '../context.js';

export interface Readiness {
  ready: boolean;
  reason?: string;
  redis: boolean;
  workers: number;
}

/**
 * Ready means: Redis answers. Whether workers serve a model is that model's own readiness
 * (/v2/models/{m}/ready, tessera_model_workers): a replica that can reach Redis can still answer
 * cache hits, queue requests for a worker that is restarting and serve every other model, so a
 * worker outage must never take the front door out of rotation.
 */
export async function readiness(ctx: ApiContext): Promise<Readiness> {
  try {
    await ctx.redis.ping();
  } catch (err) {
    return { ready: false, reason: `Redis is unreachable: ${(err as Error).message}`, redis: false, workers: 0 };
  }
  const workers = await ctx.workers.live().catch(() => []);
  return { ready: true, redis: true, workers: workers.length };
}

export function serviceRouter(ctx: ApiContext): Router {
  const r = Router();
  r.get('/live', (_req, res) => {
    res.json({ live: true });
  });
  r.get('/ready', async (_req, res) => {
    const state = await readiness(ctx);
    res.status(state.ready ? 200 : 503).json(state.ready ? state : { ...state, error: state.reason });
  });
  r.get('/health', async (_req, res) => {
    const state = await readiness(ctx);
    const workers = state.redis ? await ctx.workers.live().catch(() => []) : [];
    res.status(state.ready ? 200 : 503).json({
      status: state.ready ? 'ok' : 'unavailable',
      ...(state.ready ? {} : { error: state.reason }),
      replica: ctx.config.REPLICA_ID,
      redis: state.redis,
      workers: workers.map((w) => ({ id: w.id, models: w.models, providers: w.providers, caps: w.caps, age_ms: Date.now() - w.at })),
    });
  });
  r.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', ctx.metrics.registry.contentType);
    res.send(await ctx.metrics.registry.metrics());
  });
  return r;
}
