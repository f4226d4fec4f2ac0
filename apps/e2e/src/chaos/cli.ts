import path from 'node:path';
import { parseArgs } from 'node:util';
import { modelRepository } from '../repository.js';
import { passed, runChaos } from './run-chaos.js';
import { runSoak } from './soak.js';

const USAGE = `usage:
  chaos [--only worker-kill,replica-kill,redis-kill,redis-freeze,sentinel-failover] [--baseline 8] [--observe 12] [--clients 16] [--out .run/chaos]
  soak  [--minutes 5] [--clients 16] [--after 70] [--sample 10] [--out .run/soak]`;

const positive = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got '${value}'`);
  return n;
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      only: { type: 'string' },
      baseline: { type: 'string' },
      observe: { type: 'string' },
      clients: { type: 'string' },
      minutes: { type: 'string' },
      after: { type: 'string' },
      sample: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (command !== 'chaos' && command !== 'soak')) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const repo = await modelRepository();
  const clients = positive('clients', values.clients, 16);
  if (command === 'chaos') {
    const { summaries, json, markdown } = await runChaos({
      only:
        values.only
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean) ?? [],
      baselineSeconds: positive('baseline', values.baseline, 8),
      observeSeconds: positive('observe', values.observe, 12),
      clients,
      modelRepository: repo,
      outDir: path.resolve(values.out ?? '.run/chaos'),
    });
    process.stdout.write(`report: ${markdown}\n        ${json}\n`);
    return summaries.every(passed) ? 0 : 1;
  }
  const { json, markdown } = await runSoak({
    minutes: positive('minutes', values.minutes, 5),
    clients,
    afterSeconds: positive('after', values.after, 70),
    sampleSeconds: positive('sample', values.sample, 10),
    modelRepository: repo,
    outDir: path.resolve(values.out ?? '.run/soak'),
  });
  process.stdout.write(`report: ${markdown}\n        ${json}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
