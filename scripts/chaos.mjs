#!/usr/bin/env node
// npm run chaos / npm run soak: bootstrap (as npm start does), then the fault scenarios or the
// soak of apps/e2e/src/chaos against stacks they start on free loopback ports.
//
//   npm run chaos                                   every scenario, report in .run/chaos/
//   npm run chaos -- --only redis-freeze --baseline 8 --observe 12
//   npm run soak -- --minutes 5                     report in .run/soak/
//
// SKIP_BOOTSTRAP=1 runs the current build as it is.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap, BootstrapError, MODELS_DIR, REPO_ROOT } from './bootstrap.mjs';

async function main(argv) {
  let env = process.env;
  if (process.env.SKIP_BOOTSTRAP === '1')
    process.stderr.write('[chaos] SKIP_BOOTSTRAP=1: running the current build as it is\n');
  else ({ env } = await bootstrap({ testPackages: true }));
  const cli = join(REPO_ROOT, 'apps', 'e2e', 'dist', 'chaos', 'cli.js');
  if (!existsSync(cli)) throw new BootstrapError(`${cli} is missing; the build did not complete`);
  const child = spawn(process.execPath, [cli, ...argv], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...env, MODEL_REPOSITORY: env.MODEL_REPOSITORY || MODELS_DIR },
  });
  // Ctrl-C reaches the run too (same process group); the topology stops what it started.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`[chaos] ${error instanceof BootstrapError ? error.message : error.stack}\n`);
    process.exit(1);
  },
);
