import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The monorepo root: TESSERA_REPO_ROOT, else the nearest directory above with pnpm-workspace.yaml. */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  const fromEnv = process.env.TESSERA_REPO_ROOT;
  if (fromEnv) return resolve(fromEnv);
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${from}; set TESSERA_REPO_ROOT`);
    dir = parent;
  }
}

/** Whether `file` is an executable regular file. */
export function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Absolute path of executable `name` on PATH or in the sbin directories (`extraDirs`: pass []
 * to look only where a spawned child would), or undefined.
 */
export function findExecutable(
  name: string,
  pathValue: string = process.env.PATH ?? '',
  extraDirs: readonly string[] = SBIN_DIRS,
): string | undefined {
  for (const dir of [...pathValue.split(delimiter).filter(Boolean), ...extraDirs]) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** Like findExecutable, honouring an override variable, and with an actionable error. */
export function requireExecutable(name: string, overrideVar: string): string {
  const override = process.env[overrideVar];
  if (override) return override;
  const found = findExecutable(name);
  if (!found) {
    throw new Error(
      `${name} is not installed (not on PATH, nor in /usr/sbin). Run \`node scripts/bootstrap.mjs\`, install it with \`sudo apt-get install -y ${name === 'redis-server' ? 'redis-server' : name}\`, or set ${overrideVar}.`,
    );
  }
  return found;
}
