#!/usr/bin/env node
// npm run bench: bootstrap (as npm start does), then the benchmark in apps/bench: the in-process
// ceiling, the seed design (one Express process) and the full stack on the same inputs.
//
//   npm run bench -- --models cost,ocr-rec --concurrency 1,8,64 --duration 5
//   npm run bench -- --help
//
// SKIP_BOOTSTRAP=1 runs the current build as it is. Results go to bench-results/<timestamp>/.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap, BootstrapError, MODELS_DIR, REPO_ROOT } from './bootstrap.mjs';

function say(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

async function main(argv) {
  let env = process.env;
  if (argv.includes('--help') || argv.includes('-h') || process.env.SKIP_BOOTSTRAP === '1') {
    if (process.env.SKIP_BOOTSTRAP === '1') say('SKIP_BOOTSTRAP=1: running the current build as it is');
  } else {
    ({ env } = await bootstrap());
  }
  const cli = join(REPO_ROOT, 'apps', 'bench', 'dist', 'cli.js');
  if (!existsSync(cli)) throw new BootstrapError(`${cli} is missing; the build did not complete`);
  const child = spawn(process.execPath, [cli, ...argv], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...env, MODEL_REPOSITORY: env.MODEL_REPOSITORY || MODELS_DIR },
  });
  // Ctrl-C reaches the benchmark too (same process group); it stops what it started.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    say(error instanceof BootstrapError ? error.message : (error?.stack ?? String(error)));
    process.exit(1);
  },
);
