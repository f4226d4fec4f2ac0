import compression from 'compression';
import type { Request, RequestHandler, Response } from 'express';

/**
 * Response compression as Triton offers it: a client that sends `Accept-Encoding: gzip` or
 * `deflate` gets JSON and binary-extension responses compressed. Binary bodies are included
 * (compression's default filter skips application/octet-stream) because Triton's clients ask
 * for compression on exactly those. Bodies under a kilobyte are sent as they are: compressing
 * them costs more than it saves.
 */
export function responseCompression(): RequestHandler {
  return compression({
    threshold: 1024,
    filter: (req: Request, res: Response) => {
      const type = String(res.getHeader('Content-Type') ?? '');
      return type.startsWith('application/octet-stream') || compression.filter(req, res);
    },
  });
}
