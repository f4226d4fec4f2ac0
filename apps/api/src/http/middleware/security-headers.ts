import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/** What a middleware did to a response's headers, in order. */
type HeaderStep = { set: string; value: string | number | readonly string[] } | { remove: string };

/** Runs `handler` against a response that only records its header calls; undefined if it did more. */
function recordHeaders(handler: RequestHandler): HeaderStep[] | undefined {
  const steps: HeaderStep[] = [];
  let passed = false;
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      steps.push({ set: name, value });
      return res;
    },
    removeHeader(name: string) {
      steps.push({ remove: name });
    },
  };
  const req = { method: 'GET', url: '/', headers: {} };
  try {
    handler(req as unknown as Request, res as unknown as Response, (err?: unknown) => {
      passed = err === undefined;
    });
  } catch {
    return undefined;
  }
  return passed ? steps : undefined;
}

/**
 * helmet's security headers, set by one middleware. helmet runs a dozen middlewares per
 * response; with options like ours (no per-request nonce, nothing read from the request) each
 * sets the same headers every time, so they are recorded once here and replayed. Should helmet
 * ever read the request or answer differently twice (a nonce function, say), helmet itself runs.
 */
export function securityHeaders(options?: Readonly<HelmetOptions>): RequestHandler {
  const handler = helmet(options) as unknown as RequestHandler;
  const first = recordHeaders(handler);
  const constant = first !== undefined && JSON.stringify(first) === JSON.stringify(recordHeaders(handler));
  if (!constant) return handler;
  const names = first.map((s) => ('set' in s ? s.set : s.remove));
  const values = first.map((s) => ('set' in s ? s.value : undefined));
  return function securityHeadersMiddleware(_req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    for (let i = 0; i < names.length; i++) {
      const value = values[i];
      if (value === undefined) res.removeHeader(names[i]!);
      else res.setHeader(names[i]!, value);
    }
    next();
  } as RequestHandler;
}
