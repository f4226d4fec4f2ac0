#!/usr/bin/env node
/**
 * The OCR page path through the full stack with `ocr-det`'s CPU default at version 1 (FP32) and
 * at version 2 (INT8), as docs/quantization.md reports it: two stacks, each on its own copy of the
 * three PP-OCR models that differs only in that label, sent the same rendered pages in turns. One
 * client first (latency), then `--clients` at once (throughput); every answer's text is checked.
 *
 *   node apps/e2e/dist/measure-ocr-default.js [--pages 30] [--clients 4] [--port-base 33100]
 *
 * Ports: each stack takes 40 from --port-base on (the second from --port-base + 100).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createApiKey, startStack, type Stack } from '@tessera/topology';
import { renderText } from './images.js';
import { modelRepository } from './repository.js';

const OCR_MODELS = ['ocr-det', 'ocr-cls', 'ocr-rec'];

interface Contender {
  detDefault: string;
  stack: Stack;
  key: string;
  ms: number[];
  correct: number;
  versions: Set<string>;
}

/** A copy of the PP-OCR models whose ocr-det config names `detDefault` as the CPU default. */
async function repositoryWith(source: string, detDefault: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tessera-ocr-default-${detDefault}-`));
  for (const model of OCR_MODELS) await cp(join(source, model), join(dir, model), { recursive: true });
  const configFile = join(dir, 'ocr-det', 'config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as { labels: Record<string, string> };
  config.labels.default_version_cpu = detDefault;
  await writeFile(configFile, JSON.stringify(config, null, 2));
  return dir;
}

function stackPorts(base: number) {
  return {
    gatewayPort: base,
    gatewayGrpcPort: base + 1,
    redisPort: base + 2,
    apiBasePort: base + 10,
    apiMetricsPort: base + 20,
    workerMetricsPort: base + 30,
  };
}

/** Each page's lines differ (the response cache must miss); 640 x 480, the calibration pages' size. */
function page(i: number): { png: string; lines: string[] } {
  const lines = [`Invoice ${2000 + i}`, `Total ${(i * 17.25 + 3).toFixed(2)}`, 'Queue depth 64', `Batch ${i % 7} of 8`];
  return { png: renderText(lines, { width: 640, height: 480, lineHeight: 90 }).toString('base64'), lines };
}

async function read(c: Contender, p: { png: string; lines: string[] }): Promise<void> {
  const started = performance.now();
  const res = await fetch(`${c.stack.gatewayUrl}/predict`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'ocr', images: [p.png] }),
  });
  const body = (await res.json()) as { results?: { text: string }[][]; versions?: Record<string, string> };
  c.ms.push(performance.now() - started);
  if (res.status !== 200) throw new Error(`${res.status}: ${JSON.stringify(body)}`);
  const squash = (s: string) => s.replace(/\s+/g, '');
  if (JSON.stringify(body.results![0]!.map((l) => squash(l.text))) === JSON.stringify(p.lines.map(squash))) c.correct++;
  c.versions.add(JSON.stringify(body.versions));
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pages: { type: 'string', default: '30' },
      clients: { type: 'string', default: '4' },
      'port-base': { type: 'string', default: '33100' },
    },
  });
  const pages = Number(values.pages);
  const clients = Number(values.clients);
  const source = await modelRepository();
  const contenders: Contender[] = [];
  const dirs: string[] = [];
  try {
    for (const [i, detDefault] of ['1', '2'].entries()) {
      const dir = await repositoryWith(source, detDefault);
      dirs.push(dir);
      const stack = await startStack({
        replicas: 3,
        modelRepository: dir,
        ...stackPorts(Number(values['port-base']) + 100 * i),
        env: { LOG_LEVEL: 'warn', DEFAULT_MODEL: 'ocr' },
      });
      const { key } = await createApiKey({ redisUrl: stack.redisUrl, name: 'measure', scopes: ['infer'] });
      contenders.push({ detDefault, stack, key, ms: [], correct: 0, versions: new Set() });
    }
    for (const c of contenders) for (let w = 0; w < 2; w++) await read(c, page(1000 + w)); // warm-up
    for (const c of contenders) Object.assign(c, { ms: [], correct: 0 });
    // One client: the stacks take turns page by page, the order swapped every round.
    for (let i = 0; i < pages; i++)
      for (const c of i % 2 ? [...contenders].reverse() : contenders) await read(c, page(i));
    const single = contenders.map((c) => ({ ms: [...c.ms], correct: c.correct }));
    // `clients` at once: the stacks take turns, each reading the pages with that many in flight.
    const throughput: number[] = [];
    for (const c of contenders) {
      Object.assign(c, { ms: [], correct: 0 });
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < pages) await read(c, page(pages + next++));
        }),
      );
      throughput.push((pages * 1000) / (performance.now() - started));
    }
    const result = contenders.map((c, i) => ({
      ocrDetCpuDefault: c.detDefault,
      versions: [...c.versions],
      pages,
      oneClient: {
        medianMs: Math.round(quantile(single[i]!.ms, 0.5)),
        p90Ms: Math.round(quantile(single[i]!.ms, 0.9)),
        correct: single[i]!.correct,
      },
      [`clients${clients}`]: { pagesPerS: Number(throughput[i]!.toFixed(2)), correct: c.correct },
    }));
    console.log(JSON.stringify({ measuredAt: new Date().toISOString(), result }, null, 2));
  } finally {
    await Promise.all(contenders.map((c) => c.stack.stop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
