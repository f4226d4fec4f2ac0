import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { ServiceError } from '@tessera/contract';
import { ADMIN_COOKIE, authenticate, requireScope } from '../auth/authenticate.js';
import type { ApiContext } from '../context.js';
import { AUTHENTICATES } from '../routes/route-table.js';
import { chain, guardedRouter } from '../routes/routing.js';
import { PerKeyRateLimit } from './rate-limit.js';

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

/** The checks each protected router runs before its routes, built once per context. */
const guardsOf = new WeakMap<ApiContext, Record<'infer' | 'admin' | 'key', RequestHandler[]>>();

function routeGuards(ctx: ApiContext): Record<'infer' | 'admin' | 'key', RequestHandler[]> {
  let guards = guardsOf.get(ctx);
  if (!guards) {
    const { config } = ctx;
    const limiter = new PerKeyRateLimit({ redis: ctx.redis, prefix: config.QUEUE_PREFIX, limit: config.RATE_LIMIT, windowMs: config.RATE_LIMIT_WINDOW_MS, logger: ctx.logger });
    guards = {
      // An inference's count is taken by its admission script (no round trip of its own).
      infer: [limiter.deferred(), requireScope('infer')],
      admin: [limiter.immediate, requireScope('admin')],
      key: [limiter.immediate],
    };
    guardsOf.set(ctx, guards);
  }
  return guards;
}

/**
 * A router for routes that need a key: with the `infer` or `admin` scope, or any valid key.
 * Every request then counts against its key's rate limit (an inference's count is taken with
 * its admission, see PerKeyRateLimit).
 */
export function protectedRouter(ctx: ApiContext, access: 'infer' | 'admin' | 'key'): Router {
  return guardedRouter(access, routeGuards(ctx)[access]);
}

const isAdminPath = (path: string) => path === '/admin' || path.startsWith('/admin/');

/**
 * Deny by default: every request that no public route answered needs a valid key, whatever its
 * path, before any body is read. The dashboard's cookie counts only under /admin. Which scope a
 * route needs is its router's business (protectedRouter).
 */
export function authentication(ctx: ApiContext): RequestHandler {
  const { config } = ctx;
  if (!config.AUTH) {
    ctx.logger.warn('AUTH=off: inference and metadata routes accept requests without an API key; never run a shared or public deployment like this');
  }
  const base = { keys: ctx.keys, failures: ctx.authFailures, required: config.AUTH, logger: ctx.logger };
  const bearer = authenticate(base);
  const admin = chain([tokenExchange(ctx), authenticate({ ...base, required: true, cookie: true })]);
  const middleware = function authenticationMiddleware(req: Request, res: Response, next: NextFunction) {
    if (isAdminPath(req.path)) return admin(req, res, next);
    bearer(req, res, next);
  };
  return Object.assign(middleware, { [AUTHENTICATES]: true });
}

/**
 * Express answers OPTIONS itself (200 and an Allow header) for any path a route matches, without
 * running the route's guard. No protected route answers OPTIONS (there is no CORS to negotiate).
 */
export function refuseOptions(): RequestHandler {
  return function refuseOptionsMiddleware(req, _res, next) {
    next(req.method === 'OPTIONS' ? new ServiceError('not_found', `no route for OPTIONS ${req.path}`) : undefined);
  };
}
