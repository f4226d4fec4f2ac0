import type { NextFunction, Request, Response } from 'express';
import { BINARY_HEADER, ServiceError, type ErrorBody } from '@tessera/contract';
import type { Logger } from '@tessera/telemetry';

/** Maps body-parser's errors (which carry `type` and `status`) to the service's error table. */
function fromParser(err: { type?: string; status?: number; message?: string; limit?: number }): ServiceError | undefined {
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
      // A route parameter that is not valid percent-encoding (`/v2/models/%E0%A4%A`): the
      // router marks its URIError with status 400.
      return err instanceof URIError ? new ServiceError('bad_request', `malformed percent-encoding in the path: ${err.message}`) : undefined;
  }
}

export function errorHandler(logger: Logger) {
  return function errorHandlerMiddleware(err: unknown, req: Request, res: Response, _next: NextFunction): void {
    const known = err instanceof ServiceError ? err : fromParser(err as object);
    const error = known ?? new ServiceError('internal', 'internal error: this is a bug, the request id is in the logs', { cause: err });
    if (!known) logger.error({ reqId: req.id, err }, 'unhandled error');
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    const body: ErrorBody = { error: error.message, code: error.code };
    res.status(error.status).json(body);
  };
}

export function notFound() {
  return function notFoundMiddleware(req: Request, _res: Response, next: NextFunction): void {
    next(new ServiceError('not_found', `no route for ${req.method} ${req.path}`));
  };
}

/** POST bodies must be JSON; anything else would reach the handlers as an empty body. */
export function requireJson() {
  return function requireJsonMiddleware(req: Request, _res: Response, next: NextFunction): void {
    // req.is() is null for a request without a body, false for a body of another type; an
    // empty body (Content-Length: 0, as an admin action sends) has no type to check.
    // A binary-extension body (Inference-Header-Content-Length) may carry any type.
    if (req.method === 'POST' && req.get('content-length') !== '0' && req.is('application/json') === false && req.headers[BINARY_HEADER] === undefined) {
      next(new ServiceError('unsupported_media_type', `Content-Type must be application/json, got '${req.get('content-type') ?? 'none'}'`));
      return;
    }
    next();
  };
}
