import { after, before } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';

/** A real Redis for one test file: started before its tests, stopped after them. */
export interface TestRedis {
  /** A connection for the tests; valid from the first test on. */
  readonly conn: Redis;
  /** Another connection to the same server (blocking readers need their own), with these options. */
  connect(options?: RedisOptions): Redis;
}

const START_TIMEOUT_MS = 10_000;

/**
 * Spawns `redis-server` itself rather than through the topology package (a local-stack tool that
 * serving packages do not import): on a Unix socket in a fresh directory, without TCP, so no port
 * is taken or raced for. A missing `redis-server` fails the file with the reason.
 */
export function useTestRedis(): TestRedis {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-queue-'));
  const socket = path.join(dir, 'redis.sock');
  let server: ChildProcess | undefined;
  let conn: Redis | undefined;
  const connect = (options: RedisOptions = {}) => new Redis({ ...options, path: socket });
  before(async () => {
    const args = ['--port', '0', '--unixsocket', socket, '--dir', dir, '--save', '', '--appendonly', 'no'];
    // The same override the local stack honours (packages/topology/src/redis.ts).
    const child = spawn(process.env.REDIS_SERVER_BIN || 'redis-server', args, { stdio: 'ignore' });
    server = child;
    let failure: Error | undefined;
    child.once('error', (err) => {
      failure = new Error(`redis-server could not start (scripts/bootstrap.mjs installs it): ${err.message}`);
    });
    child.once('exit', (code) => {
      failure ??= new Error(`redis-server exited (${code}) before answering`);
    });
    // Connect once the socket exists: a connection tried earlier fails and logs before it retries.
    const until = Date.now() + START_TIMEOUT_MS;
    while (!existsSync(socket)) {
      if (failure) throw failure;
      if (Date.now() > until) throw new Error(`redis-server did not open its socket within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    conn = connect();
    await conn.ping();
  });
  after(async () => {
    conn?.disconnect();
    if (server?.pid !== undefined && server.exitCode === null) {
      const gone = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get conn() {
      if (!conn) throw new Error('the test Redis is not started yet');
      return conn;
    },
    connect,
  };
}

/** An epoch-ms deadline a minute from now. */
export const inAMinute = (): number => Date.now() + 60_000;
