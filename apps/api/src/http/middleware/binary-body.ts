import type { NextFunction, Request, Response } from 'express';
import { BINARY_HEADER, parseBinaryBody, type BinarySection } from '@tessera/contract';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The raw tensor bytes after the JSON header of a binary-extension body, with the body's
       * memory: validation aligns the tensors within it instead of copying them.
       */
      binaryData?: BinarySection;
    }
  }
}

/**
 * A body sent with Inference-Header-Content-Length (read raw by express.raw) becomes its JSON
 * header in `req.body` and its tensor bytes in `req.binaryData`; a wrong header length or a
 * malformed header is a 400 before any route runs.
 */
export function splitBinaryBody() {
  return function splitBinaryBodyMiddleware(req: Request, _res: Response, next: NextFunction): void {
    if (req.headers[BINARY_HEADER] === undefined || !Buffer.isBuffer(req.body)) {
      next();
      return;
    }
    try {
      const { header, data } = parseBinaryBody(req.body, req.get(BINARY_HEADER));
      req.body = header;
      req.binaryData = data;
      next();
    } catch (err) {
      next(err);
    }
  };
}
