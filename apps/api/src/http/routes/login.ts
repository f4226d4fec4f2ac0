import express, { type Request, type Response, type Router } from 'express';
import { ServiceError } from '@tessera/contract';
import { countFailure, unauthorized } from '../../auth/authenticate.js';
import { fromSameOrigin } from '../../auth/same-origin.js';
import { SESSION_COOKIE } from '../../auth/sessions.js';
import type { ApiContext } from '../../context.js';
import { LoginRequestSchema } from '../openapi/schemas.js';
import { publicRouter } from './routing.js';

export const LOGIN_PATH = '/admin/login';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera: sign in</title></head>
<body>
<h1>Tessera queue dashboard</h1>
<form method="post" action="${LOGIN_PATH}">
<label>API key with the admin scope <input type="password" name="key" autocomplete="off" required size="70"></label>
<button type="submit">Sign in</button>
</form>
</body></html>
`;

/** The session cookie's attributes: Secure when the request came over HTTPS (or configured so). */
export function sessionCookie(ctx: ApiContext, req: Request, value: string, maxAgeS: number): string {
  const secure = req.secure || ctx.config.ADMIN_COOKIE_SECURE ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

/**
 * The dashboard's sign-in: a page with a form, and its POST of an admin key, which is traded for
 * an opaque session id in a cookie (the key never appears in a URL or a cookie). Public, since
 * the caller has no session yet; failed keys count against AUTH_FAILURE_LIMIT.
 */
export function loginRouter(ctx: ApiContext): Router {
  const r = publicRouter();
  r.get(LOGIN_PATH, loginPage);
  const body = [express.urlencoded({ extended: false, limit: '4kb' }), express.json({ limit: '4kb' })];
  r.post(LOGIN_PATH, ...body, (req: Request, res: Response) => signIn(ctx, req, res));
  return r;
}

export function loginPage(_req: Request, res: Response): void {
  res.type('html').send(PAGE);
}

/** POST /admin/login: an admin key, traded for a session cookie. */
export async function signIn(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  if (!fromSameOrigin(req))
    throw new ServiceError('forbidden', "sign in from the dashboard's own login page (Origin or Sec-Fetch-Site)");
  // A body without a key counts as a failed sign-in, like a wrong key.
  const body = LoginRequestSchema.safeParse(req.body);
  const record = body.success ? await ctx.keys.verify(body.data.key) : null;
  if (!record)
    throw await countFailure(
      { failures: ctx.authFailures, logger: ctx.logger },
      req,
      unauthorized('invalid or revoked API key', 'invalid_token'),
    );
  if (!record.scopes.includes('admin'))
    throw new ServiceError('forbidden', `API key '${record.name}' lacks the 'admin' scope`);
  const session = await ctx.sessions.create(record.id);
  ctx.logger.info({ key: record.name, ip: req.ip }, 'dashboard sign-in');
  res.setHeader('Set-Cookie', sessionCookie(ctx, req, session, ctx.sessions.ttlS));
  res.redirect(303, '/admin/queues/');
}
