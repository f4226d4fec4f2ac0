import type { Request, Response, Router } from 'express';
import type { ApiContext } from '../../context.js';
import { protectedRouter } from '../middleware/access.js';
import type { Whoami } from '../openapi/schemas.js';

/** Who the server thinks the caller is, as seen through the proxies in front (req.ip): any valid key. */
export function whoamiRouter(ctx: ApiContext): Router {
  const r = protectedRouter(ctx, 'key');
  r.get('/whoami', whoami);
  return r;
}

export function whoami(req: Request, res: Response): void {
  const p = req.principal!;
  res.json({
    id: p.id,
    name: p.name,
    scopes: p.scopes,
    ip: req.ip,
    ...(p.models ? { models: p.models } : {}),
    ...(p.priority ? { priority: p.priority } : {}),
    ...(p.rateLimit !== undefined ? { rate_limit: p.rateLimit } : {}),
  } satisfies Whoami);
}
