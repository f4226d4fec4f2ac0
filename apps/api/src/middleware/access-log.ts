import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@tessera/telemetry';
import type { ApiMetrics } from '../metrics.js';
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

/** One structured log line and the request metrics per response. */
export function accessLog(logger: Logger, metrics: ApiMetrics, models: ModelNames = { known: () => false, defaultModel: '' }) {
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
      // The dashboard's ?token= is an API key: it never reaches the log.
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      logger[level]({ reqId: req.id, method: req.method, url: req.originalUrl.replace(/([?&]token=)[^&]*/, '$1***'), status: res.statusCode, ms: Math.round(ms * 100) / 100 }, 'request');
    });
    next();
  };
}
