import compression from 'compression';
import type { Request, RequestHandler, Response } from 'express';

/**
 * Response compression as Triton offers it, for inference responses: a client that sends
 * `Accept-Encoding: gzip` or `deflate` gets JSON and binary-extension responses compressed. Binary bodies are included
 * (compression's default filter skips application/octet-stream) because Triton's clients ask
 * for compression on exactly those. Every size is compressed, as Triton does: a client that
 * asks expects it (the cost is measured in docs/benchmarks.md).
 */
export function responseCompression(): RequestHandler {
  const compress = compression({
    threshold: 0,
    filter: (req: Request, res: Response) => {
      const type = String(res.getHeader('Content-Type') ?? '');
      return type.startsWith('application/octet-stream') || compression.filter(req, res);
    },
  });
  // A request without Accept-Encoding is never compressed (compression's default for it is
  // identity), so it skips compression's wrapping of the response and gets only its Vary.
  return function responseCompressionMiddleware(req, res, next) {
    if (req.headers['accept-encoding'] !== undefined) return compress(req, res, next);
    res.vary('Accept-Encoding');
    next();
  };
}
