import type { NextFunction, Request, Response } from 'express';
import { ServiceError } from '@tessera/contract';

/**
 * Deepest nesting of arrays and objects any request body may have. Tensor data is checked
 * against its own rank later; this bound keeps every other field (and every message that
 * quotes one) away from recursion: JSON.parse takes 200,000 levels, JSON.stringify does not.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests arrays or objects more than `limit` deep; iterative. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > limit) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children)
      if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}

/** A parsed body nested deeper than MAX_JSON_DEPTH is a 400 before any route reads it. */
export function limitJsonDepth(limit = MAX_JSON_DEPTH) {
  return function limitJsonDepthMiddleware(req: Request, _res: Response, next: NextFunction): void {
    next(
      nestsDeeperThan(req.body, limit)
        ? new ServiceError('bad_request', `request body nests arrays or objects more than ${limit} deep`)
        : undefined,
    );
  };
}
