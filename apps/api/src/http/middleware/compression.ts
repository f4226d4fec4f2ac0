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
  return compression({
    threshold: 0,
    filter: (req: Request, res: Response) => {
      const type = String(res.getHeader('Content-Type') ?? '');
      return type.startsWith('application/octet-stream') || compression.filter(req, res);
    },
  });
}
