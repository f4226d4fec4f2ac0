import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { ServiceError } from '@tessera/contract';
import { authenticate, requireScope } from '../../auth/authenticate.js';
import { sessionRequestCheck } from '../../auth/same-origin.js';
import type { ApiContext } from '../../context.js';
import { AUTHENTICATES } from '../routes/route-table.js';
import { chain, guardedRouter } from '../routes/routing.js';
import { PerKeyRateLimit } from './rate-limit.js';

/** The checks each protected router runs before its routes, built once per context. */
const guardsOf = new WeakMap<ApiContext, Record<'infer' | 'admin' | 'key', RequestHandler[]>>();

function routeGuards(ctx: ApiContext): Record<'infer' | 'admin' | 'key', RequestHandler[]> {
  let guards = guardsOf.get(ctx);
  if (!guards) {
    const limiter = PerKeyRateLimit.of(ctx);
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
 * path, before any body is read. The dashboard's session cookie counts only under /admin, and
 * only for requests that come from the dashboard itself (sessionRequestCheck). Which scope a
 * route needs is its router's business (protectedRouter).
 */
export function authentication(ctx: ApiContext): RequestHandler {
  const { config } = ctx;
  if (!config.AUTH) {
    ctx.logger.warn(
      'AUTH=off: inference and metadata routes accept requests without an API key; never run a shared or public deployment like this',
    );
  }
  const base = { keys: ctx.keys, failures: ctx.authFailures, required: config.AUTH, logger: ctx.logger };
  const bearer = authenticate(base);
  const admin = chain([authenticate({ ...base, required: true, sessions: ctx.sessions }), sessionRequestCheck()]);
  const middleware = function authenticationMiddleware(req: Request, res: Response, next: NextFunction) {
    if (isAdminPath(req.path)) return admin(req, res, next);
    return bearer(req, res, next);
  };
  return Object.assign(middleware, { [AUTHENTICATES]: true });
}

/**
 * Express answers OPTIONS itself (200 and an Allow header) for any path a route matches, without
 * running the route's guard. No protected route answers OPTIONS (CORS preflights are answered
 * before authentication, for the configured origins only).
 */
export function refuseOptions(): RequestHandler {
  return function refuseOptionsMiddleware(req, _res, next) {
    next(req.method === 'OPTIONS' ? new ServiceError('not_found', `no route for OPTIONS ${req.path}`) : undefined);
  };
}
