import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { responseCompression } from './compression.js';
import { securityHeaders } from './security-headers.js';

/** The headers a one-route app answers with when `middleware` runs first (Date aside). */
async function headersWith(middleware: RequestHandler, requestHeaders: Record<string, string> = {}) {
  const app = express();
  app.use((_req, res, next) => {
    res.setHeader('X-Powered-By', 'something'); // helmet removes it
    next();
  });
  app.use(middleware);
  app.post('/infer', responseCompression(), (_req, res) => {
    res.json({ outputs: 'x'.repeat(2000) });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((ok) => server.once('listening', ok));
  try {
    const { port } = server.address() as AddressInfo;
    // node:http sends no header of its own (fetch would add Accept-Encoding).
    const all = await new Promise<Record<string, string | string[] | undefined>>((ok, fail) => {
      const req = request(
        { port, host: '127.0.0.1', method: 'POST', path: '/infer', headers: requestHeaders },
        (res) => {
          res.resume();
          res.once('end', () => ok({ ...res.headers }));
        },
      );
      req.once('error', fail);
      req.end();
    });
    delete all.date;
    return all;
  } finally {
    server.close();
  }
}

test("securityHeaders answers with exactly helmet's headers", async () => {
  const ours = await headersWith(securityHeaders());
  assert.deepEqual(ours, await headersWith(helmet() as unknown as RequestHandler));
  assert.match(String(ours['content-security-policy']), /default-src 'self'/);
  assert.equal(ours['x-powered-by'], undefined);
  assert.equal(ours.vary, 'Accept-Encoding', 'an answer not compressed still varies on Accept-Encoding');
});

test('with options that make each answer differ (a CSP nonce), securityHeaders runs helmet for each request', async () => {
  let n = 0;
  const options = { contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => `'nonce-${n++}'`] } } };
  const middleware = securityHeaders(options);
  const first = await headersWith(middleware);
  const second = await headersWith(middleware);
  assert.match(String(first['content-security-policy']), /nonce-\d+/);
  assert.notEqual(first['content-security-policy'], second['content-security-policy']);
});

test('responseCompression compresses for a client that asks, and only then', async () => {
  const gzip = await headersWith(securityHeaders(), { 'accept-encoding': 'gzip' });
  assert.equal(gzip['content-encoding'], 'gzip');
  assert.equal(gzip.vary, 'Accept-Encoding');
  assert.equal((await headersWith(securityHeaders()))['content-encoding'], undefined);
});
