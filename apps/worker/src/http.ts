import { createServer, type Server } from 'node:http';
import type { Registry } from '@tessera/telemetry';

/**
 * The worker's own small HTTP listener: /metrics for Prometheus and /live for probes. It stays
 * responsive during long batches because inference runs on another thread.
 */
export function startMetricsServer(registry: Registry, host: string, port: number, live: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ error: err.message }));
        },
      );
      return;
    }
    if (req.url === '/live' || req.url === '/health') {
      const ok = live();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ live: ok }));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: `no route for ${req.method} ${req.url}` }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
