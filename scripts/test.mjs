#!/usr/bin/env node
// npm test: bootstrap (system packages, install, build, models), then every compiled test file
// of the workspace in one `node --test` run: packages first, then the apps, the end-to-end tests
// (which start real processes) last, one file at a time. A whole run (no words) first runs the
// house checks of scripts/lint.mjs (format, eslint, layers); a failed check fails the run.
//
//   node scripts/test.mjs                 everything
//   node scripts/test.mjs topology nginx  only test files whose path contains one of the words
//
// Environment: TEST_CONCURRENCY (files run at once, 1), TEST_TIMEOUT_MS (per test, 300000),
// TEST_REPORTER (spec), SKIP_BOOTSTRAP=1 (use the current build as it is).
// A failed build does not stop the run (whatever built is tested), but the exit code is non-zero.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { bootstrap, BootstrapError, MODELS_DIR, REPO_ROOT, RUN_DIR } from './bootstrap.mjs';
import { lint } from './lint.mjs';

function log(message) {
  process.stderr.write(`[test] ${message}\n`);
}

/** dist/**\/*.test.js files of apps/* and packages/* whose source (src/**\/*.test.ts) still exists. */
export function findTestFiles(root = REPO_ROOT) {
  const files = [];
  for (const group of ['packages', 'apps']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const pkg of readdirSync(groupDir).sort()) {
      const dist = join(groupDir, pkg, 'dist');
      if (!existsSync(dist)) continue;
      for (const file of walk(dist)) {
        if (!file.endsWith('.test.js')) continue;
        // A compiled test whose source is gone is stale output, not a test.
        const source = join(groupDir, pkg, 'src', relative(dist, file)).replace(/\.js$/, '.ts');
        if (existsSync(source)) files.push(file);
      }
    }
  }
  const isE2e = (file) => relative(root, file).split(sep).slice(0, 2).join('/') === 'apps/e2e';
  return [...files.filter((f) => !isE2e(f)), ...files.filter(isE2e)];
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') yield* walk(path);
    } else if (entry.isFile()) {
      yield path;
    }
  }
}

function nodeAtLeast(major, minor) {
  const [a, b] = process.versions.node.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** Test state directories of earlier runs (stacks the e2e tests started), older than an hour. */
function pruneOldStacks() {
  const dir = join(RUN_DIR, 'stacks');
  if (!existsSync(dir)) return;
  const cutoff = Date.now() - 60 * 60 * 1000;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      if (statSync(path).mtimeMs < cutoff) rmSync(path, { recursive: true, force: true });
    } catch {
      // in use or gone
    }
  }
}

async function main(argv) {
  // Words filter the test files; options (none so far) are left to the environment variables above.
  const filters = parseArgs({ args: argv, allowPositionals: true, strict: false }).positionals;
  let failed = [];
  let env = process.env;
  if (process.env.SKIP_BOOTSTRAP === '1') {
    log('SKIP_BOOTSTRAP=1: testing the current build');
  } else {
    const result = await bootstrap({ keepGoing: true, testPackages: true });
    env = result.env;
    failed = result.failures;
  }
  pruneOldStacks();
  if (filters.length === 0) {
    for (const check of await lint((m) => log(`lint ${m}`))) {
      failed.push({ step: `lint (${check})`, error: new Error(`npm run lint: ${check} failed (see above)`) });
    }
  }

  let files = findTestFiles();
  if (filters.length > 0) files = files.filter((f) => filters.some((word) => relative(REPO_ROOT, f).includes(word)));
  if (files.length === 0) {
    log(
      filters.length > 0
        ? `no test file matches ${filters.join(', ')}`
        : 'no test files found (did the build produce dist/?)',
    );
    return 1;
  }
  for (const failure of failed)
    log(`WARNING: ${failure.step} failed (${failure.error.message.split('\n')[0]}); testing what there is`);

  const args = [
    '--test',
    `--test-reporter=${process.env.TEST_REPORTER || 'spec'}`,
    '--test-reporter-destination=stdout',
  ];
  if (nodeAtLeast(20, 10)) args.push(`--test-concurrency=${process.env.TEST_CONCURRENCY || 1}`);
  if (nodeAtLeast(20, 11)) args.push(`--test-timeout=${process.env.TEST_TIMEOUT_MS || 300_000}`);
  log(`${files.length} test file(s)`);
  const child = spawn(process.execPath, [...args, ...files.map((f) => relative(REPO_ROOT, f))], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: {
      ...env,
      MODEL_REPOSITORY: resolve(process.env.MODEL_REPOSITORY || MODELS_DIR),
      TESSERA_REPO_ROOT: REPO_ROOT,
    },
  });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise((done) => child.on('exit', (c, signal) => done(c ?? (signal ? 1 : 0))));
  if (code === 0 && failed.length > 0) {
    log(`the tests passed, but ${failed.map((f) => f.step).join(' and ')} failed (see above)`);
    return 1;
  }
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    log(error instanceof BootstrapError ? error.message : (error?.stack ?? String(error)));
    process.exit(1);
  },
);
