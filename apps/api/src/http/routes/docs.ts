import type { Router } from 'express';
import { publicRouter } from './routing.js';

/**
 * A try-it page for people: paste an API key, run /predict on texts or an uploaded image, see
 * the answer. Plain HTML and one script from the same origin, so that helmet's
 * Content-Security-Policy (scripts from 'self' only) holds; the key stays in the page.
 */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera: try it</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.4 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input,textarea,select{width:100%;box-sizing:border-box;font:inherit}
button{margin-top:1rem;font:inherit;padding:.4rem 1.2rem}pre{background:#f4f4f4;padding:1rem;overflow:auto;white-space:pre-wrap}</style></head>
<body><h1>Tessera: try it</h1>
<p>Runs <code>POST /predict</code> with your API key (it never leaves this page except to this server).</p>
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

export function docsRouter(): Router {
  // Public on purpose, and as exact as every other route (no /DOCS, no /docs/).
  const r = publicRouter();
  r.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });
  r.get('/docs/try.js', (_req, res) => {
    res.type('text/javascript').send(SCRIPT);
  });
  return r;
}
