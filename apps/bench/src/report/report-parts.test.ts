import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, summarize } from '../measure/latency.js';
import { batchDistribution, parseMetrics } from '../measure/prom.js';
import { evaluateTargets } from './targets.js';
import type { CeilingResult, StepResult } from '../types.js';
import { binaryBodyMaker, bodyMaker } from '../measure/vary.js';

test('latency percentiles are nearest-rank over every response', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  const s = summarize([3, 1, 2]);
  assert.deepEqual(s, { p50: 2, p90: 3, p99: 3, mean: 2, max: 3 });
});

test('the batch-size distribution is the difference of two scrapes, per bucket', () => {
  const scrape = (counts: number[], sum: number, cap: number) =>
    parseMetrics(
      [
        '# HELP tessera_worker_batch_size Items per executed batch.',
        ...['1', '2', '4', '+Inf'].map(
          (le, i) => `tessera_worker_batch_size_bucket{le="${le}",model="cost",worker="w"} ${counts[i]}`,
        ),
        `tessera_worker_batch_size_sum{model="cost",worker="w"} ${sum}`,
        `tessera_worker_batch_size_count{model="cost",worker="w"} ${counts[3]}`,
        `tessera_worker_batch_size_count{model="other",worker="w"} 99`,
        `tessera_worker_batch_cap{model="cost",worker="w"} ${cap}`,
        `tessera_worker_batch_delay_seconds{model="cost",worker="w"} 0.002`,
      ].join('\n'),
    );
  const d = batchDistribution(scrape([1, 1, 2, 2], 4, 64), scrape([4, 6, 9, 10], 30, 16), 'cost');
  assert.deepEqual(d.buckets, { 1: 3, 2: 2, 4: 2, '+Inf': 1 });
  assert.equal(d.batches, 8);
  assert.equal(d.items, 26);
  assert.equal(d.meanSize, 26 / 8);
  assert.equal(d.capAtEnd, 16);
  assert.equal(d.delaySecondsAtEnd, 0.002);
});

test('targets are ratios of the same run, and NOT MEASURED without the data', () => {
  const ceiling: CeilingResult = {
    model: 'ocr-rec',
    intraOpThreads: 1,
    batch1P50Ms: 20,
    cpuS: 1,
    peakRssMb: 100,
    points: [{ batchSize: 4, runs: 10, itemsPerS: 50, meanMs: 80, p50Ms: 80 }],
    best: { batchSize: 4, runs: 10, itemsPerS: 50, meanMs: 80, p50Ms: 80 },
  };
  const step = (
    contender: 'seed' | 'full',
    concurrency: number,
    itemsPerS: number,
    p50: number,
    apiRss = 100,
  ): StepResult => ({
    contender,
    model: 'ocr-rec',
    inputs: 'unique',
    concurrency,
    itemsPerRequest: 1,
    reqPerS: itemsPerS,
    itemsPerS,
    load: {
      connections: concurrency,
      durationS: 10,
      completed: 100,
      ok: 100,
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      statusCodes: { 200: 100 },
      latencyMs: { p50, p90: p50, p99: p50, mean: p50, max: p50 },
      loadgenCpuS: 0,
    },
    processes:
      contender === 'full'
        ? [{ name: 'api-1', pids: [1], cpuS: 1, cpuSPer1kRequests: 10, peakRssMb: apiRss, hwmRssMb: apiRss }]
        : [],
    batches: null,
  });
  const targets = evaluateTargets([ceiling], [step('full', 1, 30, 21.5), step('full', 64, 41, 900, 160)]);
  const byName = (s: string) => targets.find((t) => t.name.startsWith(s))!;
  assert.equal(byName('ocr-rec: full-stack saturation').pass, true); // 41 >= 0.8 x 50
  assert.equal(byName('lid176').pass, null);
  assert.equal(byName('ocr-rec at 1 client').pass, true); // 21.5 <= 20 + 2
  assert.equal(byName('lid176 at 64 clients: API CPU').pass, null);
  assert.equal(byName('API replica RSS').pass, false); // 160 MB
});

test('every benchmark request differs from every other, and stays valid JSON of the same shape', () => {
  const template = JSON.stringify({
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [0, 0, 0.5, 0.25] }],
  }).replace('[0,0,', '[__V1__,__V2__,');
  const next = bodyMaker(template, { kind: 'float' });
  const bodies = Array.from({ length: 3000 }, () => next());
  assert.equal(new Set(bodies).size, bodies.length);
  for (const b of bodies.slice(0, 5)) assert.equal(JSON.parse(b).inputs[0].data.length, 4);
  const ids = bodyMaker(template, { kind: 'ids', offset: 1, rows: 50 }, 0);
  const idBodies = Array.from({ length: 2500 }, () => ids());
  assert.equal(new Set(idBodies).size, 2500, 'rows x rows distinct pairs');
  for (const b of idBodies) {
    const [a, c] = JSON.parse(b).inputs[0].data as number[];
    assert.ok(a! >= 1 && a! <= 50 && c! >= 1 && c! <= 50, 'ids stay within the dictionary rows');
  }
});

test('binary-extension bodies differ per request in the first two values, after an intact JSON header', () => {
  const header = JSON.stringify({
    inputs: [{ name: 'ids', datatype: 'INT64', shape: [1, 3], parameters: { binary_data_size: 24 } }],
  });
  const data = Buffer.from(new BigInt64Array([1n, 2n, 3n]).buffer).toString('base64');
  const next = binaryBodyMaker({ header, data, element: 'INT64' }, { kind: 'ids', offset: 1, rows: 40 });
  const bodies = Array.from({ length: 1600 }, () => next());
  assert.equal(new Set(bodies.map((b) => b.toString('base64'))).size, 1600);
  const n = Buffer.byteLength(header);
  for (const b of bodies.slice(0, 3)) {
    assert.equal(b.subarray(0, n).toString(), header);
    assert.equal(b.byteLength, n + 24);
    assert.equal(b.readBigInt64LE(n + 16), 3n, 'the third value is untouched');
  }
});
