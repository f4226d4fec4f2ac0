import type { NextFunction, Request, Response } from 'express';
import { ServiceError } from '@tessera/contract';
import type { Logger } from '@tessera/telemetry';
import type { FailureLimit } from './failure-limit.js';
import { principalOf, type KeyStore, type Principal, type Scope } from './key-store.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Who is calling: the API key's record, or the anonymous principal when AUTH is off. */
      principal?: Principal;
    }
  }
}

const REALM = 'tessera';

/** With AUTH=off, requests without a key act as this principal: inference only, never admin. */
export const ANONYMOUS: Principal = { id: 'anonymous', name: 'anonymous', scopes: ['infer'], createdAt: new Date(0).toISOString() };

/** RFC 6750 §3: a request without credentials gets a bare challenge; a bad key gets invalid_token. */
function unauthorized(message: string, error?: 'invalid_token' | 'invalid_request'): ServiceError {
  const description = message.replaceAll('"', "'");
  const challenge = error ? `Bearer realm="${REALM}", error="${error}", error_description="${description}"` : `Bearer realm="${REALM}"`;
  return new ServiceError('unauthorized', message, { headers: { 'WWW-Authenticate': challenge } });
}

export function insufficientScope(scope: Scope, principal: Principal): ServiceError {
  return new ServiceError('forbidden', `API key '${principal.name}' lacks the '${scope}' scope`, {
    headers: { 'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"` },
  });
}

/** A cookie set by the admin dashboard's `?token=` exchange (browsers cannot send bearer headers). */
export const ADMIN_COOKIE = 'tessera_admin';

function cookieToken(req: Request): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === ADMIN_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export interface AuthOptions {
  keys: KeyStore;
  failures: FailureLimit;
  /** AUTH=off: requests without credentials pass as ANONYMOUS. */
  required: boolean;
  logger: Logger;
  /** Also accept the admin cookie (only under /admin). */
  cookie?: boolean;
}

/**
 * Who an `Authorization` header (or the admin cookie's key) names, whatever the transport: the
 * principal, or the ServiceError to answer with (401, 429 past the failure limit, 503).
 */
export async function verifyCredentials(opts: AuthOptions, header: string | undefined, ip: string, fromCookie?: string): Promise<Principal> {
  if (!header && !fromCookie) {
    if (!opts.required) return ANONYMOUS;
    throw unauthorized('missing API key: send "Authorization: Bearer <key>"');
  }
  const match = header ? /^Bearer[ ]+([^\s]+)\s*$/i.exec(header) : undefined;
  const token = fromCookie ?? match?.[1];
  let failure: ServiceError | undefined;
  if (!token) {
    failure = unauthorized('malformed Authorization header: expected "Bearer <key>"', 'invalid_request');
  } else {
    let record;
    try {
      record = await opts.keys.verify(token);
    } catch (err) {
      throw new ServiceError('not_ready', `cannot verify the API key: Redis is unreachable (${(err as Error).message})`, { cause: err, headers: { 'Retry-After': '1' } });
    }
    if (record) return principalOf(record);
    failure = unauthorized('invalid or revoked API key', 'invalid_token');
  }
  const wait = await opts.failures.fail(ip).catch(() => undefined);
  if (wait !== undefined) {
    opts.logger.warn({ ip }, 'too many failed authentications from this address');
    throw new ServiceError('rate_limited', `too many failed authentications from ${ip}; retry in ${wait} s`, { headers: { 'Retry-After': String(wait) } });
  }
  throw failure;
}

/** Verifies `Authorization: Bearer <key>` and sets req.principal; 401 otherwise. */
export function authenticate(opts: AuthOptions) {
  return async function authenticateMiddleware(req: Request, _res: Response, next: NextFunction): Promise<void> {
    const header = req.get('authorization');
    const fromCookie = opts.cookie && !header ? cookieToken(req) : undefined;
    try {
      req.principal = await verifyCredentials(opts, header, req.ip ?? '', fromCookie);
    } catch (err) {
      return next(err);
    }
    next();
  };
}

/** 403 unless the authenticated principal holds `scope`. */
export function requireScope(scope: Scope) {
  return function requireScopeMiddleware(req: Request, _res: Response, next: NextFunction): void {
    const p = req.principal;
    if (!p) return next(unauthorized('missing API key: send "Authorization: Bearer <key>"'));
    next(p.scopes.includes(scope) ? undefined : insufficientScope(scope, p));
  };
}

/** 403 unless the key's model allow-list (if any) names this model or pipeline. */
export function assertModelAccess(req: { principal?: Principal | undefined }, model: string): void {
  const allowed = req.principal?.models;
  if (allowed && !allowed.includes(model)) {
    throw new ServiceError('forbidden', `API key '${req.principal!.name}' may not use model '${model}' (allowed: ${allowed.join(', ')})`);
  }
}

export function mayUseModel(req: { principal?: Principal | undefined }, model: string): boolean {
  const allowed = req.principal?.models;
  return !allowed || allowed.includes(model);
}
