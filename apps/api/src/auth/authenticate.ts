import type { NextFunction, Request, Response } from 'express';
import { ServiceError } from '@tessera/contract';
import type { Logger } from '@tessera/telemetry';
import type { FailureLimit } from './failure-limit.js';
import { principalOf, type ApiKeyRecord, type KeyStore, type Principal, type Scope } from './key-store.js';
import { readCookie, SESSION_COOKIE, type SessionStore } from './sessions.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Who is calling: the API key's record, or the anonymous principal when AUTH is off. */
      principal?: Principal;
      /** Authenticated by the dashboard's session cookie (which a browser sends on its own). */
      viaSession?: boolean;
    }
  }
}

const REALM = 'tessera';

/** With AUTH=off, requests without a key act as this principal: inference only, never admin. */
export const ANONYMOUS: Principal = {
  id: 'anonymous',
  name: 'anonymous',
  scopes: ['infer'],
  createdAt: new Date(0).toISOString(),
};

/** RFC 6750 §3: a request without credentials gets a bare challenge; a bad key gets invalid_token. */
export function unauthorized(message: string, error?: 'invalid_token' | 'invalid_request'): ServiceError {
  const description = message.replaceAll('"', "'");
  const challenge = error
    ? `Bearer realm="${REALM}", error="${error}", error_description="${description}"`
    : `Bearer realm="${REALM}"`;
  return new ServiceError('unauthorized', message, { headers: { 'WWW-Authenticate': challenge } });
}

export function insufficientScope(scope: Scope, principal: Principal): ServiceError {
  return new ServiceError('forbidden', `API key '${principal.name}' lacks the '${scope}' scope`, {
    headers: { 'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"` },
  });
}

export interface AuthOptions {
  keys: KeyStore;
  failures: FailureLimit;
  /** AUTH=off: requests without credentials pass as ANONYMOUS. */
  required: boolean;
  logger: Logger;
  /** Also accept the dashboard's session cookie (only under /admin). */
  sessions?: SessionStore;
}

type Found = { record: ApiKeyRecord } | { failure: ServiceError };

/** The key behind a bearer header or a session id, or why there is none. */
async function identify(opts: AuthOptions, header: string | undefined, session: string | undefined): Promise<Found> {
  if (session !== undefined) {
    const keyId = await opts.sessions!.keyIdOf(session);
    const record = keyId ? await opts.keys.byId(keyId) : null;
    return record
      ? { record }
      : {
          failure: unauthorized(
            'the dashboard session is unknown or expired: sign in again at /admin/login',
            'invalid_token',
          ),
        };
  }
  const token = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header ?? '')?.[1];
  if (!token)
    return { failure: unauthorized('malformed Authorization header: expected "Bearer <key>"', 'invalid_request') };
  const record = await opts.keys.verify(token);
  return record ? { record } : { failure: unauthorized('invalid or revoked API key', 'invalid_token') };
}

/**
 * Verifies `Authorization: Bearer <key>` (or, where allowed, the dashboard's session cookie)
 * and sets req.principal; 401 otherwise, 429 past AUTH_FAILURE_LIMIT failures.
 */
export function authenticate(opts: AuthOptions) {
  return async function authenticateMiddleware(req: Request, _res: Response, next: NextFunction): Promise<void> {
    const header = req.get('authorization');
    const session = opts.sessions && !header ? readCookie(req.get('cookie'), SESSION_COOKIE) : undefined;
    if (!header && session === undefined) {
      if (!opts.required) {
        req.principal = ANONYMOUS;
        return next();
      }
      return next(unauthorized('missing API key: send "Authorization: Bearer <key>"'));
    }
    let found: Found;
    try {
      found = await identify(opts, header, session);
    } catch (err) {
      return next(
        new ServiceError(
          'not_ready',
          `cannot verify the credentials: Redis is unreachable (${(err as Error).message})`,
          { cause: err, headers: { 'Retry-After': '1' } },
        ),
      );
    }
    if ('record' in found) {
      req.principal = principalOf(found.record);
      req.viaSession = session !== undefined;
      return next();
    }
    next(await countFailure(opts, req, found.failure));
  };
}

/**
 * Who a bearer header names, for transports other than Express (the gRPC service's metadata):
 * the principal, or the error to answer with, as the middleware above decides it.
 */
export async function verifyCredentials(opts: AuthOptions, header: string | undefined, ip: string): Promise<Principal> {
  if (!header) {
    if (!opts.required) return ANONYMOUS;
    throw unauthorized('missing API key: send "Authorization: Bearer <key>"');
  }
  let found: Found;
  try {
    found = await identify(opts, header, undefined);
  } catch (err) {
    throw new ServiceError(
      'not_ready',
      `cannot verify the credentials: Redis is unreachable (${(err as Error).message})`,
      { cause: err, headers: { 'Retry-After': '1' } },
    );
  }
  if ('record' in found) return principalOf(found.record);
  throw await countFailure(opts, { ip }, found.failure);
}

/** Records a failed authentication; past the limit the answer is 429 instead of `failure`. */
export async function countFailure(
  opts: Pick<AuthOptions, 'failures' | 'logger'>,
  req: { ip?: string | undefined },
  failure: ServiceError,
): Promise<ServiceError> {
  const wait = await opts.failures.fail(req.ip ?? '').catch(() => undefined);
  if (wait === undefined) return failure;
  opts.logger.warn({ ip: req.ip }, 'too many failed authentications from this address');
  return new ServiceError('rate_limited', `too many failed authentications from ${req.ip}; retry in ${wait} s`, {
    headers: { 'Retry-After': String(wait) },
  });
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
    throw new ServiceError(
      'forbidden',
      `API key '${req.principal!.name}' may not use model '${model}' (allowed: ${allowed.join(', ')})`,
    );
  }
}

export function mayUseModel(req: { principal?: Principal | undefined }, model: string): boolean {
  const allowed = req.principal?.models;
  return !allowed || allowed.includes(model);
}
