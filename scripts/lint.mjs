#!/usr/bin/env node
// npm run lint: the house checks, each over the whole workspace —
//   format   Prettier's check (`npm run format` rewrites the files)
//   eslint   typescript-eslint with type information (eslint.config.mjs)
//   layers   dependency-cruiser: no import cycles, imports in one direction (.dependency-cruiser.cjs)
// `npm test` runs them before the tests. Exit code: non-zero when any check fails.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

export const CHECKS = [
  { name: 'format', command: bin('prettier'), args: ['--check', '--log-level=warn', '.'] },
  { name: 'eslint', command: bin('eslint'), args: ['--max-warnings=0', '.'] },
  {
    name: 'layers',
    command: bin('depcruise'),
    args: ['apps', 'packages', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'],
  },
];

function run({ command, args }) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    child.on('error', (err) => {
      process.stderr.write(`${err.message}\n`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

/** Runs every check (all of them, even after a failure); returns the names of those that failed. */
export async function lint(log = (m) => process.stderr.write(`[lint] ${m}\n`)) {
  const failed = [];
  for (const check of CHECKS) {
    const started = Date.now();
    const code = await run(check);
    log(`${check.name}: ${code === 0 ? 'ok' : 'FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    if (code !== 0) failed.push(check.name);
  }
  return failed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const failed = await lint();
  process.exit(failed.length > 0 ? 1 : 0);
}
