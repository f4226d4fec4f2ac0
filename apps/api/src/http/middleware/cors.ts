import type { NextFunction, Request, Response } from 'express';

/** What a browser may send: the key, the body's type, and the protocol's own headers. */
const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'idempotency-key',
  'inference-header-content-length',
  'x-request-timeout-ms',
  'request-timeout',
  'cache-control',
  'x-request-id',
].join(', ');
/** What a browser may read: the binary extension's header length, timings, limits and ids. */
const EXPOSED_HEADERS = [
  'inference-header-content-length',
  'x-request-id',
  'retry-after',
  'x-cache',
  'idempotent-replayed',
  'x-total-time',
  'x-queue-time',
  'x-inference-time',
  'x-batch-size',
  'ratelimit',
  'ratelimit-policy',
].join(', ');

/**
 * Cross-origin browser calls from an explicit allow-list only (CORS_ORIGINS): the origin is
 * echoed, never `*`, and credentials (cookies) are never allowed, since the API's credential is
 * a bearer key the page sends itself. A preflight is answered here, before authentication (a
 * browser sends it without the key). Requests from other origins get no CORS headers, so
 * browsers refuse to hand the answer to the page.
 */
export function cors(origins: readonly string[]) {
  const allowed = new Set(origins);
  return function corsMiddleware(req: Request, res: Response, next: NextFunction): void {
    const origin = req.get('origin');
    if (origin === undefined || allowed.size === 0) return next();
    res.vary('Origin');
    if (!allowed.has(origin)) return next();
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
