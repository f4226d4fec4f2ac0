import { createServer, type ServerResponse, type Server } from 'node:http';
import type { Registry } from '@tessera/telemetry';
import type { Check } from './health.js';

export interface Probes {
  /** Liveness: false asks the orchestrator for a restart. */
  live: () => Check;
  /** Readiness: false only takes the worker out of rotation. */
  ready: () => Promise<Check>;
  /** Facts shown by /health: device, models, … */
  describe: () => Record<string, unknown>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * The worker's own small HTTP listener: /metrics for Prometheus, /live and /ready for probes and
 * /health for people. It stays responsive during long batches because inference runs on another
 * thread.
 */
export function startMetricsServer(registry: Registry, host: string, port: number, probes: Probes): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        },
        (err: Error) => json(res, 500, { error: err.message, code: 'internal' }),
      );
      return;
    }
    if (req.url === '/live') {
      const live = probes.live();
      json(res, live.ok ? 200 : 503, live.ok ? { live: true } : { live: false, error: live.reason, code: 'not_ready' });
      return;
    }
    if (req.url === '/ready' || req.url === '/health') {
      const live = probes.live();
      void probes.ready().then((ready) => {
        const ok = live.ok && ready.ok;
        const error = live.reason ?? ready.reason;
        const body =
          req.url === '/ready'
            ? { ready: ok }
            : { status: ok ? 'ok' : 'unavailable', live: live.ok, ready: ready.ok, ...probes.describe() };
        json(res, ok ? 200 : 503, ok ? body : { ...body, error, code: 'not_ready' });
      });
      return;
    }
    json(res, 404, { error: `no route for ${req.method} ${req.url}`, code: 'not_found' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
