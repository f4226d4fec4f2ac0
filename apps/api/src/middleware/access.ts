import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ServiceError } from '@tessera/contract';
import { ADMIN_COOKIE, authenticate, requireScope } from '../auth/authenticate.js';
import type { ApiContext } from '../context.js';
import { PerKeyRateLimit } from './rate-limit.js';

/** Runs handlers in order, as Express would for one route, stopping at the first error. */
function chain(handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined && err !== null) return next(err);
      const handler = handlers[i++];
      if (!handler) return next();
      try {
        const out = handler(req, res, step) as unknown;
        if (out instanceof Promise) out.catch(step);
      } catch (e) {
        step(e);
      }
    };
    step();
  };
}

/**
 * The dashboard cannot send a bearer header from a browser: `?token=<admin key>` is checked once
 * and traded for an HttpOnly, SameSite=Strict cookie scoped to /admin, and the browser is sent
 * on without the key in its address bar.
 */
function tokenExchange(ctx: ApiContext): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (req.method !== 'GET' || token === undefined) return next();
    const record = await ctx.keys.verify(token).catch(() => null);
    if (!record) return next(new ServiceError('unauthorized', 'invalid or revoked API key', { headers: { 'WWW-Authenticate': 'Bearer realm="tessera", error="invalid_token"' } }));
    if (!record.scopes.includes('admin')) return next(new ServiceError('forbidden', `API key '${record.name}' lacks the 'admin' scope`));
    const secure = req.secure ? '; Secure' : '';
    res.setHeader('Set-Cookie', `${ADMIN_COOKIE}=${encodeURIComponent(token)}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=3600${secure}`);
    res.redirect(303, `${req.baseUrl}${req.path}`);
  };
}

/**
 * Who may call what, before any body is parsed:
 * - /live, /ready, /health, /metrics and /v2/health/*: open (probes; nginx hides /metrics);
 * - /v2/* and /predict: a key with the `infer` scope;
 * - /admin/*: a key with the `admin` scope (header, or the dashboard's cookie);
 * - /whoami: any valid key.
 * Every authenticated request then counts against its key's rate limit (an inference's count is
 * taken with its admission, see PerKeyRateLimit).
 */
export function accessControl(ctx: ApiContext): RequestHandler {
  const { config } = ctx;
  if (!config.AUTH) {
    ctx.logger.warn('AUTH=off: inference and metadata routes accept requests without an API key; never run a shared or public deployment like this');
  }
  const base = { keys: ctx.keys, failures: ctx.authFailures, required: config.AUTH, logger: ctx.logger };
  const auth = authenticate(base);
  const limiter = new PerKeyRateLimit({ redis: ctx.redis, prefix: config.QUEUE_PREFIX, limit: config.RATE_LIMIT, windowMs: config.RATE_LIMIT_WINDOW_MS, logger: ctx.logger });
  const limit = limiter.immediate;
  // An inference's count is taken by its admission script (no round trip of its own).
  const infer = chain([auth, limiter.deferred(), requireScope('infer')]);
  const admin = chain([tokenExchange(ctx), authenticate({ ...base, required: true, cookie: true }), limit, requireScope('admin')]);
  const anyKey = chain([auth, limit]);
  return (req, res, next) => {
    const path = req.path;
    if (path === '/v2' || (path.startsWith('/v2/') && !path.startsWith('/v2/health/')) || path === '/predict') return infer(req, res, next);
    if (path === '/admin' || path.startsWith('/admin/')) return admin(req, res, next);
    if (path === '/whoami') return anyKey(req, res, next);
    next();
  };
}
