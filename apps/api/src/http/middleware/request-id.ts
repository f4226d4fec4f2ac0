import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      id: string;
      startedAt: bigint;
    }
  }
}

/** The client's (or nginx's) request id when it is sane, else a new one. */
export function requestIdOf(given: string | undefined): string {
  return given && VALID.test(given) ? given : randomUUID();
}

/** Takes X-Request-Id from the client (or nginx) when it is sane, else makes one; echoes it. */
export function requestId() {
  return function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
    const given = req.get('x-request-id');
    req.id = requestIdOf(given);
    req.startedAt = process.hrtime.bigint();
    res.setHeader('X-Request-Id', req.id);
    next();
  };
}

export function elapsedMs(req: { startedAt: bigint }): number {
  return Number(process.hrtime.bigint() - req.startedAt) / 1e6;
}
