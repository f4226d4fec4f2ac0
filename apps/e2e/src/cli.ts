import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findRepoRoot } from '@tessera/topology';

const run = promisify(execFile);

/** Runs one of the API's operator CLIs (`keys`, `queues`, `routes`) against a stack's Redis. */
export async function cli(
  name: 'keys' | 'queues' | 'routes',
  args: string[],
  redisUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const root = findRepoRoot();
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redisUrl, ...extraEnv };
  delete env.NODE_TEST_CONTEXT;
  return run(process.execPath, [join(root, 'apps', 'api', 'dist', 'cli', `${name}.js`), ...args], {
    cwd: root,
    env,
    timeout: 15_000,
  });
}
