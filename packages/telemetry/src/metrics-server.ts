import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/**
 * A service's own small HTTP listener, apart from any public port: /metrics for Prometheus and
 * /live for probes. The worker's stays responsive during long batches because inference runs on
 * another thread; the API's keeps metrics off the port that nginx forwards to.
 */
export function startMetricsServer(
  registry: Registry,
  host: string,
  port: number,
  live: () => boolean,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
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
