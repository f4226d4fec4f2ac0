import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Who may talk to Redis, and with what. Redis holds API keys, so a client that reaches its port
 * without a password could mint an admin key: every client logs in as one of three users with
 * its own random password. The `default` user is off, so a connection that has not logged in is
 * refused (NOAUTH); it keeps every permission because Redis replays its append-only file as
 * `default` and re-checks each MULTI/EXEC against that user's rights (with fewer, every
 * transaction in the file would be refused, and lost, on restart).
 *
 * - `admin`: every command (the key and queue CLIs, operators, tests);
 * - `api`: data commands and scripts on every key, nothing that reconfigures, flushes, replicates,
 *   lists keys or reads other clients (`@dangerous`, `@admin`, functions, SCRIPT FLUSH/KILL);
 *   INFO stays allowed because BullMQ reads the server version and eviction policy from it;
 * - `worker`: the same commands, on the queue's keys only: never an API key, a rate-limit
 *   counter or a failed-login counter, so a compromised worker (it runs operator-supplied
 *   models) cannot mint or read a key.
 */
export type RedisUser = 'admin' | 'api' | 'worker';
export type RedisCredentials = Record<RedisUser, string>;

/** Commands of the api and worker users (verified against the whole test suite: ACL LOG stays empty). */
export const SERVICE_COMMANDS = [
  '+@all',
  '-@dangerous',
  '-@admin',
  '-function',
  '-script|flush',
  '-script|kill',
  '-script|debug',
  '+info',
] as const;

/**
 * Key families the worker touches (BullMQ's queues, replies, large inputs, heartbeats, idempotency,
 * admission, cache, inference statistics, repository control). The names come from RedisKeys
 * (packages/queue/src/keys.ts); redis-auth.test.ts checks every key the worker uses against this list.
 */
export const WORKER_KEY_FAMILIES = [
  'infer.*',
  'reply:*',
  'blob:*',
  'workers',
  'worker:*',
  'idem:*',
  'admission:*',
  'cache:*',
  'stats:*',
  'repository:*',
] as const;

/** The users file (`aclfile`), with SHA-256 hashes of the passwords, never the passwords. */
export function redisAcl(credentials: RedisCredentials, prefix = 'tessera'): string {
  const hash = (password: string) => `#${createHash('sha256').update(password).digest('hex')}`;
  const lines = [
    // Nobody can log in as `default` (off, no password), but Redis replays the append-only file
    // as that user: without every permission, replayed transactions (and Redis 7 writes every
    // script's effects as one) fail with NOPERM and a restart loses all queue state.
    'user default off ~* &* +@all',
    `user admin on ${hash(credentials.admin)} ~* &* +@all`,
    `user api on ${hash(credentials.api)} ~* &* ${SERVICE_COMMANDS.join(' ')}`,
    `user worker on ${hash(credentials.worker)} ${WORKER_KEY_FAMILIES.map((f) => `~${prefix}:${f}`).join(' ')} &* ${SERVICE_COMMANDS.join(' ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The passwords of a Redis kept in `dir`: read from `dir/credentials.json` (mode 0600), or
 * generated (256 random bits each) and written there on first use, so that a restarted Redis
 * and its clients keep agreeing.
 */
export function redisCredentials(dir: string): RedisCredentials {
  const file = join(dir, 'credentials.json');
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<RedisCredentials>;
    if (stored.admin && stored.api && stored.worker) return stored as RedisCredentials;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const fresh = () => randomBytes(32).toString('base64url');
  const credentials: RedisCredentials = { admin: fresh(), api: fresh(), worker: fresh() };
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return credentials;
}

/** Writes the users file next to the credentials (mode 0600) and returns its path. */
export function writeRedisAcl(dir: string, credentials: RedisCredentials, prefix?: string): string {
  const file = join(dir, 'users.acl');
  writeFileSync(file, redisAcl(credentials, prefix), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** `redis://user:password@host:port` for each user. */
export function redisUrls(host: string, port: number, credentials: RedisCredentials): Record<RedisUser, string> {
  const url = (user: RedisUser) => `redis://${user}:${encodeURIComponent(credentials[user])}@${host}:${port}`;
  return { admin: url('admin'), api: url('api'), worker: url('worker') };
}
