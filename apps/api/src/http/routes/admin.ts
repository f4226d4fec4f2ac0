import type { Request, Router } from 'express';
import { ServiceError } from '@tessera/contract';
import { queueBoard } from '../../admin/board.js';
import { drainQueue, pauseQueue, queueStatus, resumeQueue } from '../../admin/queue-ops.js';
import type { ApiContext } from '../../context.js';
import { resolveModel } from '../../inference/models.js';
import { protectedRouter } from '../middleware/access.js';
import { readCookie, SESSION_COOKIE } from '../../auth/sessions.js';
import { sessionCookie } from './login.js';

type NameParams = { name: string };

/**
 * Operator endpoints: a key with the `admin` scope. The queue dashboard is bull-board,
 * read-only unless ADMIN_READ_ONLY=off, with tensor values redacted.
 */
export function adminRouter(ctx: ApiContext): Router {
  const r = protectedRouter(ctx, 'admin');
  const { QUEUE_PREFIX: prefix } = ctx.config;
  const queueOf = (req: Request<NameParams>) => {
    const model = resolveModel(ctx, req.params.name).name;
    return { model, queue: ctx.queueFor(model) };
  };
  const redisDown = (err: unknown) =>
    new ServiceError('not_ready', `Redis is unreachable: ${(err as Error).message}`, { cause: err });

  r.get('/admin/models/:name', async (req: Request<NameParams>, res) => {
    const { model, queue } = queueOf(req);
    res.json(await queueStatus(queue, ctx.redis, prefix, model).catch((err) => Promise.reject(redisDown(err))));
  });

  const action = (
    name: string,
    run: (model: string, queue: ReturnType<ApiContext['queueFor']>) => Promise<Record<string, unknown>>,
  ) => {
    r.post(`/admin/models/:name/${name}`, async (req: Request<NameParams>, res) => {
      const { model, queue } = queueOf(req);
      const done = await run(model, queue).catch((err) => Promise.reject(redisDown(err)));
      ctx.logger.warn({ model, action: name, key: req.principal?.name, ...done }, `queue ${name}`);
      res.json({ ...(await queueStatus(queue, ctx.redis, prefix, model)), ...done });
    });
  };
  action('pause', async (_m, q) => (await pauseQueue(q), {}));
  action('resume', async (_m, q) => (await resumeQueue(q), {}));
  action('drain', async (m, q) => ({ removed: await drainQueue(q, ctx.redis, prefix, m) }));

  // Helmet's CSP asks browsers to upgrade subresources to https; over plain http (a local
  // stack) the dashboard's scripts would then fail to load.
  r.use('/admin/queues', (req, res, next) => {
    const csp = res.getHeader('Content-Security-Policy');
    if (!req.secure && typeof csp === 'string')
      res.setHeader('Content-Security-Policy', csp.replace(/;?upgrade-insecure-requests/, ''));
    next();
  });
  r.post('/admin/logout', async (req, res) => {
    const session = readCookie(req.get('cookie'), SESSION_COOKIE);
    if (session !== undefined) await ctx.sessions.end(session);
    res.setHeader('Set-Cookie', sessionCookie(ctx, req, '', 0));
    res.status(204).end();
  });
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
