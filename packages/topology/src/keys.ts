import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findRepoRoot } from './paths.js';

const run = promisify(execFile);

export interface ApiKeyOptions {
  redisUrl: string;
  name: string;
  /** infer, admin (default: infer). */
  scopes?: readonly string[];
  rateLimit?: number;
  models?: readonly string[];
  /** Allowed priorities, e.g. "3-10". */
  priority?: string;
  /** Revoke existing keys with this name first. */
  replace?: boolean;
  queuePrefix?: string;
  repoRoot?: string;
}

export interface CreatedApiKey {
  id: string;
  key: string;
  name: string;
  scopes: string[];
}

/**
 * Creates an API key the way an operator does, through the API's key CLI
 * (`node apps/api/dist/cli/keys.js create ... --json`), against the stack's Redis.
 */
export async function createApiKey(options: ApiKeyOptions): Promise<CreatedApiKey> {
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const cli = join(repoRoot, 'apps', 'api', 'dist', 'cli', 'keys.js');
  if (!existsSync(cli))
    throw new Error(`${cli} does not exist; build the workspace first (node scripts/bootstrap.mjs)`);
  const args = [cli, 'create', '--name', options.name, '--scopes', (options.scopes ?? ['infer']).join(','), '--json'];
  if (options.rateLimit !== undefined) args.push('--rate-limit', String(options.rateLimit));
  if (options.models?.length) args.push('--models', options.models.join(','));
  if (options.priority) args.push('--priority', options.priority);
  if (options.replace) args.push('--replace');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: options.redisUrl,
    ...(options.queuePrefix ? { QUEUE_PREFIX: options.queuePrefix } : {}),
  };
  delete env.NODE_TEST_CONTEXT;
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, env, timeout: 15_000 });
  return JSON.parse(stdout.trim()) as CreatedApiKey;
}
