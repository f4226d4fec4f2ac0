import { Router, type RequestHandler } from 'express';
import type { Scope } from '../../auth/key-store.js';

/**
 * Routing is exact: `/PREDICT`, `/predict/` and `/v2;x/models` are other paths, never aliases of
 * a route. The app sets the same ('case sensitive routing', 'strict routing').
 */
export const ROUTING = { caseSensitive: true, strict: true } as const;

/** Who may call a route: anyone (probes), any valid key, or a key holding a scope. */
export type Access = 'public' | 'key' | Scope;

/** Marks a router or a guard with the access it grants; read back by routeTable(). */
export const ACCESS = Symbol('tessera.access');

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The matched route's template (`/v2/models/:name/infer`): the metrics label. */
      routeTemplate?: string;
      /** The access whose guard this request has passed (a mounted path may run its guard twice). */
      passed?: Access;
    }
  }
}

type Tagged<T> = T & { [ACCESS]?: Access };

export function accessOf(value: unknown): Access | undefined {
  return (value as Tagged<object> | null)?.[ACCESS];
}

/** Runs handlers in order, as Express would for one route, stopping at the first error. */
export function chain(handlers: readonly RequestHandler[]): RequestHandler {
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

/** Routes anyone may call (probes). Mounted before authentication; nothing else belongs here. */
export function publicRouter(): Router {
  const r = Router(ROUTING) as Tagged<Router>;
  r[ACCESS] = 'public';
  return r;
}

const METHODS = ['all', 'get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;

/**
 * A router whose every route runs `guard` first: a route added to it later is protected
 * without saying so. Routes (for the methods in METHODS; any other is still behind the app's
 * authentication) and mounted paths are guarded; a pathless `use()` is refused, since it would
 * run for requests meant for other routers.
 */
export function guardedRouter(access: Exclude<Access, 'public'>, guard: readonly RequestHandler[]): Router {
  const r = Router(ROUTING);
  const run = chain(guard);
  const entry = (template: string): RequestHandler => {
    const handler: Tagged<RequestHandler> = function routeGuard(req, res, next) {
      req.routeTemplate = template;
      if (req.passed === access) return next();
      run(req, res, (err?: unknown) => {
        if (!err) req.passed = access;
        next(err);
      });
    };
    handler[ACCESS] = access;
    return handler;
  };
  // Router#get, #post, … all go through this.route(path), so wrapping route() guards them too.
  const route = r.route.bind(r);
  r.route = ((path: string) => {
    const created = route(path) as unknown as Record<string, (...handlers: unknown[]) => unknown>;
    for (const method of METHODS) {
      const register = created[method]!.bind(created);
      created[method] = (...handlers: unknown[]) => register(entry(path), ...handlers);
    }
    return created;
  }) as unknown as typeof r.route;
  const use = (r.use as (...args: unknown[]) => Router).bind(r);
  (r as unknown as { use: unknown }).use = (path: unknown, ...handlers: unknown[]) => {
    if (typeof path !== 'string')
      throw new Error(
        'a guarded router mounts handlers under a path only: a pathless use() would run for every request (this is a bug)',
      );
    return use(path, entry(`${path}/*`), ...handlers);
  };
  return r;
}
