import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Express, Router } from 'express';
import { openApiDocument } from '../openapi/document.js';
import { routeTable } from './route-table.js';
import { publicRouter } from './routing.js';

/**
 * The API's pages for people, all from the same origin with no inline script, so that helmet's
 * Content-Security-Policy (scripts from 'self' only) holds; a pasted key stays in the page:
 * - /docs: Swagger UI (the swagger-ui-dist package) on /v2/openapi.json, with an Authorize box
 *   for the key and "Try it out" on every operation;
 * - /docs/try: a form that runs /predict on texts or an uploaded image.
 */
const SWAGGER_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><p style="font:15px system-ui,sans-serif;margin:1rem 2rem">Run <code>/predict</code> on an image: <a href="/docs/try">the try-it page</a>.</p>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/swagger-init.js"></script></body></html>`;

const SWAGGER_INIT = `'use strict';
window.ui = SwaggerUIBundle({
  url: '/v2/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  deepLinking: true,
  // The validator badge would send the document to a third-party service.
  validatorUrl: null,
});
`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera: try it</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.4 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input,textarea,select{width:100%;box-sizing:border-box;font:inherit}
button{margin-top:1rem;font:inherit;padding:.4rem 1.2rem}pre{background:#f4f4f4;padding:1rem;overflow:auto;white-space:pre-wrap}</style></head>
<body><h1>Tessera: try it</h1>
<p><a href="/docs">The API reference</a>. Runs <code>POST /predict</code> with your API key (it never leaves this page except to this server).</p>
<form id="form">
<label for="key">API key</label><input id="key" type="password" autocomplete="off" placeholder="tsk_…" required>
<label for="model">Model</label><select id="model"><option value="lid176">lid176: language of each line of text</option><option value="ocr">ocr: text of a page image</option><option value="ocr-line">ocr-line: text of a one-line image</option></select>
<label for="texts">Texts (one per line)</label><textarea id="texts" rows="4">Ceci est une phrase.</textarea>
<label for="image">or an image (PNG or JPEG)</label><input id="image" type="file" accept="image/png,image/jpeg">
<button id="run" type="submit">Run</button></form>
<h2>Answer</h2><pre id="out">…</pre></body>
<script src="/docs/try.js"></script></html>`;

const SCRIPT = `'use strict';
const $ = (id) => document.getElementById(id);
function base64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const model = $('model').value;
  const file = $('image').files[0];
  const body = model === 'lid176'
    ? { model, texts: $('texts').value.split('\\n').filter((t) => t.trim() !== '') }
    : { model, images: file ? [await base64(file)] : [] };
  $('out').textContent = 'running…';
  const res = await fetch('/predict', { method: 'POST', headers: { authorization: 'Bearer ' + $('key').value.trim(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  $('out').textContent = res.status + '\\n' + JSON.stringify(await res.json(), null, 2);
});
`;

const SWAGGER_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The document of the app serving the request, built once per app from its route table. */
const documents = new WeakMap<Express, object>();
function documentOf(app: Express): object {
  let doc = documents.get(app);
  if (!doc) documents.set(app, (doc = openApiDocument(routeTable(app))));
  return doc;
}

export function docsRouter(): Router {
  // Public on purpose, and as exact as every other route (no /DOCS, no /docs/).
  const r = publicRouter();
  r.get('/v2/openapi.json', (req, res) => {
    res.json(documentOf(req.app as Express));
  });
  r.get('/docs', (_req, res) => {
    res.type('html').send(SWAGGER_PAGE);
  });
  for (const [file, type] of [
    ['swagger-ui.css', 'text/css'],
    ['swagger-ui-bundle.js', 'text/javascript'],
  ] as const) {
    let content: Buffer | undefined; // read on the first request, then kept
    r.get(`/docs/${file}`, (_req, res) => {
      content ??= readFileSync(path.join(SWAGGER_DIR, file));
      res.type(type).setHeader('Cache-Control', 'public, max-age=3600');
      res.send(content);
    });
  }
  r.get('/docs/swagger-init.js', (_req, res) => {
    res.type('text/javascript').send(SWAGGER_INIT);
  });
  r.get('/docs/try', (_req, res) => {
    res.type('html').send(PAGE);
  });
  r.get('/docs/try.js', (_req, res) => {
    res.type('text/javascript').send(SCRIPT);
  });
  return r;
}
