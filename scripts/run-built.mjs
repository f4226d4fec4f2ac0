// Runs one of the built command-line programs (apps/*/dist) after the bootstrap, as npm run bench
// and npm run chaos do: SKIP_BOOTSTRAP=1 runs the current build as it is.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap, BootstrapError, MODELS_DIR, REPO_ROOT } from './bootstrap.mjs';

/**
 * `name` prefixes this script's own lines; `cli` is the program's path below the repository;
 * `bootstrapOptions` go to bootstrap(); with `skipBootstrap` (e.g. for --help) it is not run.
 * Exits with the program's status; Ctrl-C reaches the program too (same process group), which
 * stops what it started.
 */
export function runBuilt({ name, cli, argv, bootstrapOptions = {}, skipBootstrap = false }) {
  const say = (message) => process.stderr.write(`[${name}] ${message}\n`);
  const main = async () => {
    let env = process.env;
    if (process.env.SKIP_BOOTSTRAP === '1') say('SKIP_BOOTSTRAP=1: running the current build as it is');
    else if (!skipBootstrap) ({ env } = await bootstrap(bootstrapOptions));
    const program = join(REPO_ROOT, ...cli);
    if (!existsSync(program)) throw new BootstrapError(`${program} is missing; the build did not complete`);
    const child = spawn(process.execPath, [program, ...argv], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: { ...env, MODEL_REPOSITORY: env.MODEL_REPOSITORY || MODELS_DIR },
    });
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
    return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  };
  main().then(
    (code) => process.exit(code),
    (error) => {
      say(error instanceof BootstrapError ? error.message : (error?.stack ?? String(error)));
      process.exit(1);
    },
  );
}
