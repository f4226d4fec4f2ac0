import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response, Router } from 'express';
import { parseRequest, ServiceError } from '@tessera/contract';
import { ModelParamsSchema } from '../openapi/schemas.js';
import { queueBoard } from '../../admin/board.js';
import { drainQueue, pauseQueue, queueStatus, resumeQueue } from '../../admin/queue-ops.js';
import type { ApiContext } from '../../context.js';
import { resolveModel } from '../../inference/models.js';
import { protectedRouter } from '../middleware/access.js';
import { readCookie, SESSION_COOKIE } from '../../auth/sessions.js';
import { sessionCookie } from './login.js';

type NameParams = { name: string };

type QueueAction = (ctx: ApiContext, model: string, queue: Queue) => Promise<Record<string, unknown>>;

const ACTIONS: Record<string, QueueAction> = {
  pause: async (_ctx, _m, q) => (await pauseQueue(q), {}),
  resume: async (_ctx, _m, q) => (await resumeQueue(q), {}),
  drain: async (ctx, m, q) => ({ removed: await drainQueue(q, ctx.redis, ctx.config.QUEUE_PREFIX, m) }),
};

/**
 * Operator endpoints: a key with the `admin` scope. The queue dashboard is bull-board,
 * read-only unless ADMIN_READ_ONLY=off, with tensor values redacted.
 */
export function adminRouter(ctx: ApiContext): Router {
  const r = protectedRouter(ctx, 'admin');
  r.get('/admin/models/:name', (req: Request<NameParams>, res) => modelQueue(ctx, req, res));
  for (const [name, run] of Object.entries(ACTIONS))
    r.post(`/admin/models/:name/${name}`, (req: Request<NameParams>, res) => queueAction(ctx, name, run, req, res));
  r.use('/admin/queues', allowPlainHttp);
  r.post('/admin/logout', (req, res) => logout(ctx, req, res));
  r.use(
    '/admin/queues',
    queueBoard(
      '/admin/queues',
      ctx.repository.names().map((n) => ctx.queueFor(n)),
      ctx.config.ADMIN_READ_ONLY,
    ),
  );
  return r;
}

function queueOf(ctx: ApiContext, req: Request<NameParams>): { model: string; queue: Queue } {
  const model = resolveModel(ctx, parseRequest(ModelParamsSchema, req.params).name).name;
  return { model, queue: ctx.queueFor(model) };
}

const redisDown = (err: unknown) =>
  new ServiceError('not_ready', `Redis is unreachable: ${(err as Error).message}`, { cause: err });

/** GET /admin/models/{name}: the model's queue counts and items in flight. */
export async function modelQueue(ctx: ApiContext, req: Request<NameParams>, res: Response): Promise<void> {
  const { model, queue } = queueOf(ctx, req);
  const status = await queueStatus(queue, ctx.redis, ctx.config.QUEUE_PREFIX, model).catch((err) =>
    Promise.reject(redisDown(err)),
  );
  res.json(status);
}

/** POST /admin/models/{name}/{pause|resume|drain}: the action, logged, then the queue's state. */
export async function queueAction(
  ctx: ApiContext,
  name: string,
  run: QueueAction,
  req: Request<NameParams>,
  res: Response,
): Promise<void> {
  const { model, queue } = queueOf(ctx, req);
  const done = await run(ctx, model, queue).catch((err) => Promise.reject(redisDown(err)));
  ctx.logger.warn({ model, action: name, key: req.principal?.name, ...done }, `queue ${name}`);
  res.json({ ...(await queueStatus(queue, ctx.redis, ctx.config.QUEUE_PREFIX, model)), ...done });
}

/**
 * Helmet's CSP asks browsers to upgrade subresources to https; over plain http (a local stack)
 * the dashboard's scripts would then fail to load.
 */
export function allowPlainHttp(req: Request, res: Response, next: NextFunction): void {
  const csp = res.getHeader('Content-Security-Policy');
  if (!req.secure && typeof csp === 'string')
    res.setHeader('Content-Security-Policy', csp.replace(/;?upgrade-insecure-requests/, ''));
  next();
}

export async function logout(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const session = readCookie(req.get('cookie'), SESSION_COOKIE);
  if (session !== undefined) await ctx.sessions.end(session);
  res.setHeader('Set-Cookie', sessionCookie(ctx, req, '', 0));
  res.status(204).end();
}
