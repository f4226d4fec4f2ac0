#!/usr/bin/env node
// Measures the memory bounds of docs/security.md ("Fairness and resource bounds") on a local
// stack of one API replica and one worker (loopback ports picked at random):
//
//   node scripts/measure-bounds.mjs ocr     the API replica's RSS before and after two requests
//                                           of 8 x 2048x2048 16-bit RGBA PNGs, then a 300-dpi A4
//                                           JPEG and a 12 MP JPEG
//   node scripts/measure-bounds.mjs cache [seconds] [budget]
//                                           Redis memory and the cache's byte count while 16
//                                           clients send unique affine inferences
// Build first (node scripts/bootstrap.mjs). Prints a markdown table.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MODELS_DIR, REPO_ROOT } from './bootstrap.mjs';

const topology = await import(pathToFileURL(join(REPO_ROOT, 'packages', 'topology', 'dist', 'index.js')).href);
const sharp = createRequire(join(REPO_ROOT, 'packages', 'ocr', 'package.json'))('sharp');
const { Redis } = createRequire(join(REPO_ROOT, 'apps', 'api', 'package.json'))('ioredis');

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

async function post(url, body, key) {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'cache-control': 'no-cache' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return `${res.status} in ${((performance.now() - started) / 1000).toFixed(1)} s`;
}

async function ocr(stack, key) {
  const pid = stack.process('api-1').pid;
  const deep = await sharp({
    create: { width: 2048, height: 2048, channels: 4, background: { r: 250, g: 250, b: 250, alpha: 1 } },
  })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
  const rows = [['start', '', rssMb(pid)]];
  for (let i = 1; i <= 2; i++) {
    const status = await post(
      `${stack.gatewayUrl}/predict`,
      { model: 'ocr', images: Array(8).fill(deep.toString('base64')) },
      key,
    );
    rows.push([`8 x 2048² 16-bit RGBA PNG (${deep.length} bytes each), request ${i}`, status, rssMb(pid)]);
  }
  for (const [what, width, height] of [
    ['300-dpi A4 JPEG', 2480, 3508],
    ['12 MP JPEG', 4000, 3000],
  ]) {
    const jpeg = await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .jpeg()
      .toBuffer();
    const status = await post(`${stack.gatewayUrl}/predict`, { model: 'ocr', images: [jpeg.toString('base64')] }, key);
    rows.push([`${what} (${width}x${height})`, status, rssMb(pid)]);
  }
  console.log('| after | answer | API replica RSS (MB) |\n| --- | --- | --- |');
  for (const [what, status, rss] of rows) console.log(`| ${what} | ${status} | ${rss.toFixed(0)} |`);
}

async function cache(stack, key, seconds) {
  const redis = new Redis(stack.redisUrl);
  const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]) / 2 ** 20;
  const bytes = async () => Number((await redis.get('tessera:cache:bytes')) ?? 0) / 2 ** 20;
  console.log(
    '| t (s) | requests | Redis used_memory (MB) | cache entries (MB, by its own count) |\n| --- | --- | --- | --- |',
  );
  let sent = 0;
  let stop = false;
  const client = async (c) => {
    while (!stop) {
      const n = sent++;
      await fetch(`${stack.gatewayUrl}/v2/models/affine/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({
          inputs: [
            {
              name: 'x',
              datatype: 'FP32',
              shape: [64, 4],
              data: Array.from({ length: 256 }, (_, i) => n * 1000 + c + i),
            },
          ],
        }),
      }).then((r) => r.arrayBuffer());
    }
  };
  console.log(`| 0 | 0 | ${(await used()).toFixed(1)} | ${(await bytes()).toFixed(1)} |`);
  const clients = Array.from({ length: 16 }, (_, c) => client(c));
  for (let t = 10; t <= seconds; t += 10) {
    await new Promise((r) => setTimeout(r, 10_000));
    console.log(`| ${t} | ${sent} | ${(await used()).toFixed(1)} | ${(await bytes()).toFixed(1)} |`);
  }
  stop = true;
  await Promise.all(clients);
  // What the entries really take in Redis, against the cache's own count of them.
  let real = 0;
  let entries = 0;
  for (const key of ['tessera:cache:index', 'tessera:cache:sizes'])
    real += Number(await redis.memory('USAGE', key)) || 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'tessera:cache:k:*', 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      real += Number(await redis.memory('USAGE', key)) || 0;
      entries++;
    }
  } while (cursor !== '0');
  console.log(
    `\n${entries} entries: Redis reports ${(real / 2 ** 20).toFixed(2)} MB for them (MEMORY USAGE of entries, index and sizes), the cache counts ${(await bytes()).toFixed(2)} MB`,
  );
  redis.disconnect();
}

const [mode = 'ocr', seconds = '60', budget = '16mb'] = process.argv.slice(2);
const stack = await topology.startStack({
  replicas: 1,
  workers: 1,
  modelRepository: process.env.MODEL_REPOSITORY ?? MODELS_DIR,
  env: { LOG_LEVEL: 'warn', RESPONSE_CACHE_MAX_BYTES: budget, RATE_LIMIT: '0', REQUEST_TIMEOUT_MS: '300000' },
});
try {
  const { key } = await topology.createApiKey({ redisUrl: stack.redisUrl, name: 'measure' });
  if (mode === 'cache') await cache(stack, key, Number(seconds));
  else await ocr(stack, key);
} finally {
  await stack.stop();
}
