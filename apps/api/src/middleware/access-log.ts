import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '@tessera/telemetry';
import type { ApiMetrics } from '../metrics.js';
import { elapsedMs } from './request-id.js';

/** One structured log line and the request metrics per response. */
export function accessLog(logger: Logger, metrics: ApiMetrics) {
  return function accessLogMiddleware(req: Request, res: Response, next: NextFunction): void {
    res.on('finish', () => {
      const ms = elapsedMs(req);
      // The matched route pattern keeps label cardinality bounded; unknown paths share one label.
      const route = (req.route?.path as string | undefined) ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.latency.observe({ route }, ms / 1000);
      // The dashboard's ?token= is an API key: it never reaches the log.
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      logger[level]({ reqId: req.id, method: req.method, url: req.originalUrl.replace(/([?&]token=)[^&]*/, '$1***'), status: res.statusCode, ms: Math.round(ms * 100) / 100 }, 'request');
    });
    next();
  };
}
