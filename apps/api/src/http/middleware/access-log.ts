import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@tessera/telemetry';
import type { ApiMetrics } from '../../metrics.js';
import { isCountedRoute, modelLabel } from './metric-labels.js';
import { elapsedMs } from './request-id.js';

/** The template a protected route's guard recorded, or a public route's own; 'unmatched' otherwise. */
export function routeLabel(req: Request): string {
  if (req.routeTemplate) return req.routeTemplate;
  const path = req.route?.path as unknown;
  return typeof path === 'string' ? path : 'unmatched';
}

/** Which model names the metrics may carry, and the one /predict uses without a `model`. */
export interface ModelNames {
  known: (name: string) => boolean;
  defaultModel: string;
}

const KEY_LIKE = /tsk_[0-9a-f]{12}_/;

/**
 * The URL as it may be logged: the path, unless it holds something shaped like an API key in
 * any encoding, and never the query string. No parameter of this API carries a secret, but a
 * client may send one under any name and spelling (`?token=`, `?%74oken=`).
 */
export function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // logged as sent
  }
  const shown = KEY_LIKE.test(path) || KEY_LIKE.test(decoded) ? '(a path holding an API key)' : path;
  return q < 0 ? shown : `${shown}?***`;
}

/** One structured log line and the request metrics per response. */
export function accessLog(
  logger: Logger,
  metrics: ApiMetrics,
  models: ModelNames = { known: () => false, defaultModel: '' },
) {
  return function accessLogMiddleware(req: Request, res: Response, next: NextFunction): void {
    res.on('finish', () => {
      const ms = elapsedMs(req);
      // The matched route's template, never the path as sent, keeps label cardinality bounded;
      // unmatched paths share one label.
      const route = routeLabel(req);
      if (isCountedRoute(route)) {
        const model = modelLabel(req, route, models.known, models.defaultModel);
        metrics.requests.inc({ method: req.method, route, status: String(res.statusCode), model });
        metrics.latency.observe({ route, model }, ms / 1000);
      }
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      logger[level](
        {
          reqId: req.id,
          method: req.method,
          url: loggedUrl(req.originalUrl),
          status: res.statusCode,
          ms: Math.round(ms * 100) / 100,
        },
        'request',
      );
    });
    next();
  };
}
