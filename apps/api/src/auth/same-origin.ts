import type { NextFunction, Request, Response } from 'express';
import { ServiceError } from '@tessera/contract';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether the browser says the request came from this site's own pages. */
export function fromSameOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = req.get('origin');
  if (origin === undefined) return false;
  try {
    // Host as the client addressed it (X-Forwarded-Host from a trusted proxy): req.hostname.
    return new URL(origin).hostname === req.hostname;
  } catch {
    return false;
  }
}

/**
 * A browser sends the session cookie on its own, so a state-changing request that relies on it
 * must come from the dashboard itself (Sec-Fetch-Site, else Origin) and be JSON (or carry no
 * body and no type at all), which a form on another site cannot send without a CORS preflight
 * this service never grants.
 */
export function sessionRequestCheck() {
  return function sessionRequestCheckMiddleware(req: Request, _res: Response, next: NextFunction): void {
    if (!req.viaSession || SAFE_METHODS.has(req.method)) return next();
    if (!fromSameOrigin(req))
      return next(
        new ServiceError(
          'forbidden',
          'a request signed in by the dashboard cookie must come from the dashboard (Origin or Sec-Fetch-Site)',
        ),
      );
    // The dashboard's own bodiless actions (bull-board's PUTs) send no Content-Type; an HTML form
    // always sends one, so only a request with neither a type nor a body is let through as is.
    const length = req.get('content-length');
    const bodiless =
      req.get('content-type') === undefined &&
      req.get('transfer-encoding') === undefined &&
      (length === undefined || length === '0');
    if (!bodiless && req.is('application/json') !== 'application/json')
      return next(
        new ServiceError(
          'unsupported_media_type',
          `a request signed in by the dashboard cookie must be application/json, got '${req.get('content-type') ?? 'none'}'`,
        ),
      );
    next();
  };
}
