#!/usr/bin/env node
/**
 * npm run bench: the in-process ceiling, the seed design and the full stack on the same inputs,
 * one line per step while it runs, then report.json, report.md and chart.svg in the output
 * directory and PASS/FAIL per target. Usage: see args.ts (or --help).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, UsageError, USAGE } from './args.js';
import { mixedMarkdown, runMixed } from './measure/mixed-load.js';
import { runBench, writeReport } from './run-bench.js';

const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2), process.env, process.cwd());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) process.stderr.write(`${err.message}\n\n`);
    process.stderr.write(USAGE);
    return err.message ? 2 : 0;
  }
  if (opts.mixed) {
    log(`mixed-load step; ${opts.durationS} s per step (+${opts.warmupS} s warm-up); results → ${opts.outDir}`);
    const rows = await runMixed(opts, log);
    mkdirSync(opts.outDir, { recursive: true });
    const markdown = mixedMarkdown(rows, `npm run bench -- ${process.argv.slice(2).join(' ')}`);
    writeFileSync(join(opts.outDir, 'mixed.json'), `${JSON.stringify(rows, null, 2)}\n`);
    writeFileSync(join(opts.outDir, 'mixed.md'), markdown);
    process.stdout.write(markdown);
    return 0;
  }
  log(
    `models ${opts.models.join(', ')}; contenders ${opts.contenders.join(', ')}; clients ${opts.concurrency.join(', ')}; ${opts.durationS} s per step (+${opts.warmupS} s warm-up); intra-op threads ${opts.intraOpThreads}`,
  );
  log(`results → ${opts.outDir}`);
  const report = await runBench(opts, log);
  const paths = writeReport(report, opts.outDir);
  log('targets:');
  for (const t of report.targets)
    log(`  ${t.pass === null ? 'NOT MEASURED' : t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.detail}`);
  for (const note of report.notes) log(`note: ${note}`);
  log(`wrote ${paths.json}, ${paths.markdown}, ${paths.svg}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[bench] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
