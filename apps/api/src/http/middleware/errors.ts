import type { NextFunction, Request, Response } from 'express';
import { ServiceError, type ErrorBody } from '@tessera/contract';
import type { Logger } from '@tessera/telemetry';
import { setRateHeaders } from './rate-limit.js';

/** Maps body-parser's errors (which carry `type` and `status`) to the service's error table. */
function fromParser(err: {
  type?: string;
  status?: number;
  message?: string;
  limit?: number;
}): ServiceError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new ServiceError('bad_request', `malformed JSON: ${err.message}`);
    case 'entity.too.large':
      return new ServiceError('payload_too_large', `request body is larger than the ${err.limit} byte limit`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ServiceError('unsupported_media_type', err.message ?? 'unsupported encoding');
    case 'request.aborted':
      return new ServiceError('bad_request', 'request aborted by the client');
    default:
      return fromClientStatus(err);
  }
}

/**
 * Errors that body-parser, raw-body, zlib or the router mark as the client's (a 4xx `status`):
 * a corrupt gzip body, a route parameter that is not valid percent-encoding (`%E0%A4%A`), ….
 */
function fromClientStatus(err: { status?: number; message?: string }): ServiceError | undefined {
  const status = err.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
  const what = err instanceof URIError ? 'malformed percent-encoding in the path' : 'malformed request';
  return new ServiceError(code, `${what}: ${err.message ?? 'unreadable'}`);
}

export function errorHandler(logger: Logger) {
  return function errorHandlerMiddleware(err: unknown, req: Request, res: Response, _next: NextFunction): void {
    const known = err instanceof ServiceError ? err : fromParser(err as object);
    const error =
      known ??
      new ServiceError('internal', 'internal error: this is a bug, the request id is in the logs', { cause: err });
    if (!known) logger.error({ reqId: req.id, err }, 'unhandled error');
    if (res.headersSent) return;
    setRateHeaders(res, req);
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    const body: ErrorBody = { error: error.message, code: error.code };
    sendError(res, error.status, body);
  };
}

export function notFound() {
  return function notFoundMiddleware(req: Request, _res: Response, next: NextFunction): void {
    next(new ServiceError('not_found', `no route for ${req.method} ${req.path}`));
  };
}

/**
 * Exactly `application/json`, without `; charset=utf-8` (which res.json() adds): KServe's client
 * reads an error's message only when the Content-Type is that exact value. JSON is UTF-8 anyway.
 */
export function sendError(res: Response, status: number, body: ErrorBody): void {
  res.status(status).setHeader('Content-Type', 'application/json');
  res.end(Buffer.from(JSON.stringify(body)));
}
