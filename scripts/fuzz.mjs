#!/usr/bin/env node
// npm run fuzz [-- <count>]: the hostile-input suite (apps/e2e/src/fuzz.test.ts) with a random
// seed and as many requests as asked (100000 by default), against the current build.
// FUZZ_SEED=<n> replays a run; the seed is printed first.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './bootstrap.mjs';

const count = Number(process.argv[2] ?? 100_000);
if (!Number.isSafeInteger(count) || count < 1) {
  process.stderr.write('usage: npm run fuzz [-- <count>]\n');
  process.exit(2);
}
const seed = process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
process.stderr.write(`[fuzz] seed ${seed}, ${count} requests (replay: FUZZ_SEED=${seed} npm run fuzz -- ${count})\n`);
const env = {
  ...process.env,
  FUZZ_SEED: seed,
  FUZZ_COUNT: String(count),
  SKIP_BOOTSTRAP: process.env.SKIP_BOOTSTRAP ?? '1',
  TEST_TIMEOUT_MS: process.env.TEST_TIMEOUT_MS ?? '3600000',
};
const run = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'test.mjs'), 'e2e/dist/fuzz'], {
  stdio: 'inherit',
  env,
});
process.exit(run.status ?? 1);
