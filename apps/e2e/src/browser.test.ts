import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createApiKey, findRepoRoot, freePort, startStack, type Stack } from '@tessera/topology';
import { renderText } from './images.js';
import { modelRepository } from './repository.js';

/**
 * A page on another origin calls the API through the SDK's REST client in real headless
 * Chromium: an origin in CORS_ORIGINS gets its answers (preflight included: binary bodies carry
 * custom headers), any other origin gets none. A person's try-it page at /docs runs /predict
 * on texts and on an uploaded image with a pasted key.
 */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
let stack: Stack;
let key: string;
let site: Server;
let sitePort: number;
let browser: Browser;

/** The page: the SDK's compiled ES modules, as a bundler would serve them, and one call. */
function servePage(port: number): Promise<Server> {
  const dist = path.join(findRepoRoot(), 'packages', 'client', 'dist');
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/sdk/') && /^[\w/.-]+\.js$/.test(url.slice(5)) && !url.includes('..')) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(path.join(dist, url.slice(5))));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><script type="module">
      import { InferenceClient } from '/sdk/index.js';
      window.call = async (url, key, binary) => {
        const client = new InferenceClient({ url, apiKey: key, binary });
        const r = await client.infer('affine', [{ name: 'x', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) }], { noCache: true });
        const texts = await client.predictTexts(['Ceci est une phrase en français.']);
        return { y: Array.from(r.output('y').data), cache: r.parameters.cache, label: texts.results[0].label };
      };
      window.ready = true;
    </script>`);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

before(async () => {
  sitePort = await freePort();
  stack = await startStack({
    replicas: 1,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-browser-')),
    env: { LOG_LEVEL: 'warn', CORS_ORIGINS: `http://127.0.0.1:${sitePort}` },
  });
  key = (await createApiKey({ redisUrl: stack.redisUrl, name: 'browser', scopes: ['infer'] })).key;
  site = await servePage(sitePort);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

after(async () => {
  await browser?.close();
  site?.close();
  await stack?.stop();
});

async function callFrom(origin: string, binary: boolean): Promise<unknown> {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
    return await page.evaluate(
      ([url, k, b]) =>
        (globalThis as unknown as { call: (u: string, k: string, b: boolean) => Promise<unknown> })
          .call(url, k, b)
          .catch((e: Error) => `${e.name}: ${e.message}`),
      [stack.gatewayUrl, key, binary] as const,
    );
  } finally {
    await page.close();
  }
}

test('an allowed origin infers through the SDK with binary and JSON tensors, and runs /predict', async () => {
  for (const binary of [true, false]) {
    assert.deepEqual(await callFrom(`http://127.0.0.1:${sitePort}`, binary), {
      y: [3, 5, 7, 9],
      cache: 'off',
      label: 'fr',
    });
  }
});

test('another origin gets no answer the browser would hand over', async () => {
  // localhost and 127.0.0.1 are different origins; only the latter is in CORS_ORIGINS.
  assert.match(String(await callFrom(`http://localhost:${sitePort}`, true)), /^TransportError: cannot reach/);
});

test('/docs: Swagger UI renders the operations, authorizes with a pasted key and runs /predict on a text', async () => {
  const page = await browser.newPage();
  const blocked: string[] = [];
  page.on('console', (m) => void (/Content Security Policy/.test(m.text()) && blocked.push(m.text())));
  try {
    await page.goto(`${stack.gatewayUrl}/docs`);
    await page.waitForSelector('#operations-inference-post_predict');
    assert.ok((await page.locator('.opblock').count()) >= 30, 'every operation is listed');
    await page.click('button.authorize');
    await page.fill('.auth-container input', key);
    await page.click('.auth-container button.authorize');
    await page.click('button.close-modal');
    await page.click('#operations-inference-post_predict .opblock-summary');
    await page.click('#operations-inference-post_predict button.try-out__btn');
    await page.fill(
      '#operations-inference-post_predict textarea.body-param__text',
      JSON.stringify({ model: 'lid176', texts: ['Das ist ein deutscher Satz.'] }),
    );
    await page.click('#operations-inference-post_predict button.execute');
    const status = page.locator(
      '#operations-inference-post_predict .live-responses-table .response .response-col_status',
    );
    await status.first().waitFor();
    assert.equal((await status.first().textContent())?.trim(), '200');
    const body = await page
      .locator('#operations-inference-post_predict .live-responses-table .response-col_description pre')
      .first()
      .textContent();
    assert.match(body ?? '', /"label": "de"/);
    assert.deepEqual(blocked, [], "helmet's CSP blocks nothing on the page");
  } finally {
    await page.close();
  }
});

test('/docs/try: paste a key, run /predict on texts and on an uploaded image', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`${stack.gatewayUrl}/docs/try`);
    await page.fill('#key', key);
    await page.fill('#texts', 'Das ist ein deutscher Satz.');
    await page.click('#run');
    await page.waitForFunction(() =>
      /^200\n/.test(
        (
          globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }
        ).document.getElementById('out').textContent,
      ),
    );
    assert.match((await page.textContent('#out')) ?? '', /"label": "de"/);
    await page.selectOption('#model', 'ocr-line');
    await page.setInputFiles('#image', {
      name: 'line.png',
      mimeType: 'image/png',
      buffer: renderText(['Invoice 2026']),
    });
    await page.click('#run');
    await page.waitForFunction(() =>
      /Invoice/.test(
        (
          globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }
        ).document.getElementById('out').textContent,
      ),
    );
    assert.match((await page.textContent('#out')) ?? '', /"text": "Invoice 2026"/);
  } finally {
    await page.close();
  }
});
