import type { NextFunction, Request, Response } from 'express';
import { tracing, type SpanHandle } from '@tessera/telemetry';

/** The request's span, for the steps below it (validation, enqueue) to hang theirs under. */
export function requestSpan(res: Response): SpanHandle | undefined {
  return res.locals.span as SpanHandle | undefined;
}

/**
 * The traceparent of a call's span: an Express request's (its response holds the span), or the
 * one a gRPC call carries (see grpc/call.ts).
 */
export function traceparentOf(call: object): string | undefined {
  const res = (call as { res?: Response }).res;
  return res ? requestSpan(res)?.traceparent : (call as { traceparent?: string }).traceparent;
}

/**
 * One server span per request, continuing the client's W3C traceparent (passed on by nginx) or
 * starting a trace. The worker's spans join it through the job (InferRequestPart.traceparent).
 */
export function traceRequests() {
  return function traceRequest(req: Request, res: Response, next: NextFunction): void {
    const t = tracing();
    if (!t.enabled) return next();
    const span = t.start(`${req.method} request`, {
      parent: req.get('traceparent'),
      kind: 'server',
      attributes: { 'http.request.method': req.method, 'tessera.request_id': String(req.id) },
    });
    res.locals.span = span;
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path as string}` : 'unmatched';
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      span.end(res.statusCode >= 500 ? { error: `status ${res.statusCode}` } : {});
    });
    next();
  };
}

/** Runs `fn` inside a child span of the request's span named `name`. */
export function traced<T>(res: Response, name: string, fn: () => T): T {
  const span = tracing().enabled ? tracing().start(name, { parent: requestSpan(res)?.traceparent }) : undefined;
  let error: string | undefined;
  try {
    return fn();
  } catch (err) {
    error = (err as Error).message;
    throw err;
  } finally {
    span?.end(error !== undefined ? { error } : {});
  }
}
