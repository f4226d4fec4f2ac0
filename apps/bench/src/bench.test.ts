import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareRepository } from '@tessera/model-zoo';
import type { BenchReport } from './types.js';

/**
 * Smoke test: the whole benchmark, short (2 s per step, `cost` at 1 and 8 clients), through the
 * CLI, with API keys, rate limiting and the response cache on as the bench runs by default. It
 * checks that every contender ran and the report is well formed; it asserts nothing
 * about speed (the machine running the tests is busy with other tests).
 */
test(
  'npm run bench (short): ceiling, seed, full stack and floor produce report.json, report.md and chart.svg',
  { timeout: 300_000 },
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
    const repository = join(work, 'models');
    await prepareRepository(repository, { only: 'test' });
    const out = join(work, 'out');
    const cli = fileURLToPath(new URL('./cli.js', import.meta.url));
    const args = [
      '--models',
      'cost',
      '--concurrency',
      '1,8',
      '--duration',
      '2',
      '--warmup',
      '0.5',
      '--ceiling-seconds',
      '0.3',
      '--ceiling-sizes',
      '1,2,4',
      '--repository',
      repository,
      '--out',
      out,
    ];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.on('exit', (code) => resolve({ code, output }));
    });
    assert.equal(code, 0, output);
    // One progress line per step.
    assert.match(output, /\[bench\] seed cost +c=1 /);
    assert.match(output, /\[bench\] full cost +c=8 /);
    assert.match(output, /(PASS|FAIL|NOT MEASURED) +API replica RSS/);

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BenchReport;
    assert.equal(report.ceilings.length, 1);
    const ceiling = report.ceilings[0]!;
    assert.deepEqual(
      ceiling.points.map((p) => p.batchSize),
      [1, 2, 4],
    );
    assert.ok(ceiling.best.itemsPerS > 0 && ceiling.batch1P50Ms > 0);
    assert.deepEqual(
      report.steps.map((s) => `${s.contender}@${s.concurrency} ${s.inputs}`),
      [
        'seed@1 unique',
        'full@1 unique',
        'floor@1 unique',
        'seed@8 unique',
        'full@8 unique',
        'floor@8 unique',
        'full@8 repeated',
      ],
      'contenders measured in turns, step by step',
    );
    for (const s of report.steps) {
      assert.ok(s.load.ok > 0, `${s.contender}@${s.concurrency} answered requests`);
      assert.equal(
        s.load.non2xx + s.load.errors,
        0,
        `${s.contender}@${s.concurrency}: ${JSON.stringify(s.load.statusCodes)}`,
      );
      assert.ok(s.reqPerS > 0 && s.itemsPerS === s.reqPerS);
      for (const k of ['p50', 'p90', 'p99'] as const)
        assert.ok(Number.isFinite(s.load.latencyMs[k]) && s.load.latencyMs[k] > 0);
      assert.ok(s.load.latencyMs.p50 <= s.load.latencyMs.p90 && s.load.latencyMs.p90 <= s.load.latencyMs.p99);
      for (const p of s.processes) {
        assert.ok(p.cpuS >= 0 && p.peakRssMb > 0, `${p.name}: ${JSON.stringify(p)}`);
        assert.ok(p.cpuSPer1kRequests !== null);
      }
    }
    const full = report.steps.filter((s) => s.contender === 'full' && s.inputs === 'unique');
    const hits = report.steps.find((s) => s.inputs === 'repeated')!;
    assert.ok(
      hits.batches && hits.batches.items < hits.load.ok / 10,
      `identical requests are answered by the cache: ${hits.batches?.items} items computed for ${hits.load.ok} answers`,
    );
    for (const s of full) {
      assert.deepEqual(
        s.processes.map((p) => p.name),
        ['nginx', 'api-1', 'api-2', 'api-3', 'redis', 'worker-1'],
      );
      // Unique inputs: every answer was computed (none came from the cache).
      assert.ok(s.batches!.items >= s.load.ok, `${s.batches!.items} items computed for ${s.load.ok} answers`);
      assert.ok(s.batches && s.batches.batches > 0 && s.batches.items >= s.batches.batches);
      assert.equal(
        Object.values(s.batches.buckets).reduce((a, b) => a + b, 0),
        s.batches.batches,
      );
      assert.ok(s.batches.capAtEnd !== null && s.batches.capAtEnd >= 1);
      assert.ok(s.batches.delaySecondsAtEnd !== null && s.batches.delaySecondsAtEnd >= 0);
    }
    assert.equal(report.steps.find((s) => s.contender === 'seed')!.processes[0]!.name, 'seed');
    assert.ok(report.targets.length >= 4);
    assert.ok(report.targets.every((t) => t.pass === true || t.pass === false || t.pass === null));

    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(md, /^## Targets$/m);
    assert.match(md, /^\| cost \| seed \| 1 \| [\d.]+ \|/m);
    assert.match(md, /^\| cost \| full \| 8 \| [\d.]+ \|/m);
    assert.match(md, /^\| cost \| full \| 8 \| api-1 \| [\d.]+ \|/m);
    assert.match(md, /^\| cost \| full \(cache hits\) \| 8 \| [\d.]+ \|/m);
    assert.match(md, /^## Against the floor$/m);
    assert.match(md, /^\| cost \| 8 \| floor \| [\d.]+ \| [\d.]+ \|/m);

    const svg = readFileSync(join(out, 'chart.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\s*$/);
    assert.match(svg, /cost: throughput/);
    assert.ok((svg.match(/<polyline /g) ?? []).length >= 4, 'two lines per panel');
    assert.equal((svg.match(/<g[ >]/g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length, 'groups are balanced');
    assert.doesNotMatch(svg, /NaN|undefined/);
  },
);
