#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { ModelSet } from './catalogue.js';
import { prepareRepository } from './prepare-repository.js';

const USAGE =
  'usage: tessera-models <dir> [--only test|demo|all|production] [--memory-hog-repeats N] [--cost-dim D] [--cost-layers K]';

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      only: { type: 'string', default: 'all' },
      'memory-hog-repeats': { type: 'string' },
      'cost-dim': { type: 'string' },
      'cost-layers': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const [dir, ...extra] = positionals;
  if (!dir || extra.length > 0) throw new Error(USAGE);
  if (!['test', 'demo', 'all', 'production'].includes(values.only))
    throw new Error(`--only must be test, demo, all or production\n${USAGE}`);
  const result = await prepareRepository(dir, {
    only: values.only as ModelSet,
    memoryHogRepeats: positiveInt('memory-hog-repeats', values['memory-hog-repeats']),
    cost: {
      dim: positiveInt('cost-dim', values['cost-dim']),
      layers: positiveInt('cost-layers', values['cost-layers']),
    },
  });
  for (const m of result.models) console.log(`${m.status.padEnd(9)} ${m.name}`);
  console.log(`model repository ready at ${result.dir}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
