import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteEntry } from '../routes/route-table.js';
import { openApiDocument } from './document.js';
import { OPERATIONS } from './operations.js';

const routes: RouteEntry[] = Object.keys(OPERATIONS).map((k) => {
  const [method, path] = k.split(' ') as [string, string];
  return { method, path, access: path === '/live' ? 'public' : 'infer' };
});

test('every route needs its operation and every operation its route: the document fails otherwise', () => {
  const doc = openApiDocument(routes) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  assert.deepEqual(doc.paths['/live']!.get!.security, [], 'a public route says so');
  assert.equal(doc.paths['/v2/models/{name}/infer']!.post!.security, undefined, 'the others need the bearer key');
  assert.throws(
    () => openApiDocument([...routes, { method: 'GET', path: '/new', access: 'key' }]),
    /undocumented: GET \/new;/,
  );
  assert.throws(() => openApiDocument(routes.slice(1)), /no such route: GET \/live\)/);
});
