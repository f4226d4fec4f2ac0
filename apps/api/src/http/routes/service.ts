import type { Request, Response, Router } from 'express';
import type { ApiContext } from '../../context.js';
import { withTimeout } from '../../inference/with-timeout.js';
import { publicRouter } from './routing.js';

export interface Readiness {
  ready: boolean;
  reason?: string;
  redis: boolean;
  workers: number;
}

/**
 * How long readiness may wait for Redis in all (PING and the worker registry): inside a probe's
 * default timeout of 1 s, so that a frozen Redis fails the probe rather than timing it out.
 */
const READY_REDIS_BUDGET_MS = 750;

/**
 * Ready means: Redis answers. Whether workers serve a model is that model's own readiness
 * (/v2/models/{m}/ready, tessera_model_workers): a replica that can reach Redis can still answer
 * cache hits, queue requests for a worker that is restarting and serve every other model, so a
 * worker outage must never take the front door out of rotation.
 */
export async function readiness(ctx: ApiContext): Promise<Readiness> {
  let workers: Awaited<ReturnType<ApiContext['workers']['live']>>;
  try {
    const budget = Math.min(READY_REDIS_BUDGET_MS, ctx.config.REDIS_COMMAND_TIMEOUT_MS);
    workers = await withTimeout(
      ctx.redis.ping().then(() => ctx.workers.live()),
      budget,
      `no answer within ${budget} ms`,
    );
  } catch (err) {
    return { ready: false, reason: `Redis is unreachable: ${(err as Error).message}`, redis: false, workers: 0 };
  }
  return { ready: true, redis: true, workers: workers.length };
}

/**
 * The only public routes: probes for load balancers and orchestrators. They are mounted before
 * authentication; every other route needs a key. Metrics are on their own listener (main.ts).
 */
export function serviceRouter(ctx: ApiContext): Router {
  const r = publicRouter();
  r.get('/live', live);
  r.get('/ready', (req, res) => ready(ctx, req, res));
  r.get('/health', (req, res) => health(ctx, req, res));
  r.get('/v2/health/live', live);
  r.get('/v2/health/ready', (req, res) => oipReady(ctx, req, res));
  return r;
}

export function live(_req: Request, res: Response): void {
  res.json({ live: true });
}

export async function ready(ctx: ApiContext, _req: Request, res: Response): Promise<void> {
  const state = await readiness(ctx);
  res.status(state.ready ? 200 : 503).json(state.ready ? state : { ...state, error: state.reason });
}

/** Readiness with the live workers, their models, providers and batch caps. */
export async function health(ctx: ApiContext, _req: Request, res: Response): Promise<void> {
  const state = await readiness(ctx);
  const workers = state.redis ? await ctx.workers.live().catch(() => []) : [];
  res.status(state.ready ? 200 : 503).json({
    status: state.ready ? 'ok' : 'unavailable',
    ...(state.ready ? {} : { error: state.reason }),
    replica: ctx.config.REPLICA_ID,
    redis: state.redis,
    workers: workers.map((w) => ({
      id: w.id,
      models: w.models,
      providers: w.providers,
      caps: w.caps,
      instances: w.instances ?? {},
      age_ms: Date.now() - w.at,
    })),
  });
}

/** OIP's server readiness: the same as /ready, in the protocol's shape. */
export async function oipReady(ctx: ApiContext, _req: Request, res: Response): Promise<void> {
  const { ready, reason } = await readiness(ctx);
  res.status(ready ? 200 : 503).json(ready ? { ready } : { ready, error: reason });
}
