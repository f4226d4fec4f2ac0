import { test } from 'node:test';
import assert from 'node:assert/strict';
import express, { Router, type RequestHandler } from 'express';
import { AUTHENTICATES, routeTable } from './route-table.js';
import { guardedRouter, publicRouter } from './routing.js';

const ok: RequestHandler = (_req, res) => void res.end();
const authentication = Object.assign(((_req, _res, next) => next()) as RequestHandler, { [AUTHENTICATES]: true });

test('the route table reads every route from the router stack, with the access it was given', () => {
  const app = express();
  const open = publicRouter();
  open.get('/live', ok);
  app.use(open);
  app.get('/forgotten-before-auth', ok);
  app.use(authentication);
  const infer = guardedRouter('infer', []);
  infer.get('/v2/models/:name', ok);
  infer.route('/v2/chain').post(ok);
  const admin = guardedRouter('admin', []);
  admin.use('/admin/board', Router().get('/x', ok));
  app.use(infer, admin);
  app.use(Router().get('/plain', ok));
  assert.deepEqual(routeTable(app), [
    { method: 'GET', path: '/live', access: 'public' },
    { method: 'GET', path: '/forgotten-before-auth', access: 'open' },
    { method: 'GET', path: '/v2/models/:name', access: 'infer' },
    { method: 'POST', path: '/v2/chain', access: 'infer' },
    { method: 'GET', path: '/admin/board/x', access: 'admin' },
    // A route that declares nothing, behind authentication: any valid key.
    { method: 'GET', path: '/plain', access: 'key' },
  ]);
});

test("a guarded router refuses a pathless use(), which would run for other routers' requests", () => {
  assert.throws(() => guardedRouter('admin', []).use(ok), /pathless use\(\)/);
});
