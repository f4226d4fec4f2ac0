import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { requireExecutable } from './paths.js';
import { redisCredentials, redisUrls, writeRedisAcl, type RedisCredentials, type RedisUser } from './redis-auth.js';
import { assertPortFree, freePort, LOOPBACK } from './ports.js';
import { ManagedProcess } from './process.js';
import { waitFor } from './wait.js';

export interface RedisOptions {
  /** Port to listen on; 0 or absent picks a free one. */
  port?: number;
  host?: string;
  /** Working directory of the server (created when missing). */
  dir: string;
  /** Where redis.log goes; `dir` by default. */
  logDir?: string;
  /** redis-server binary; REDIS_SERVER_BIN or the one on PATH by default. */
  bin?: string;
  name?: string;
  echo?: boolean | NodeJS.WritableStream;
  startTimeoutMs?: number;
  /** Additional command-line arguments (`--name value` pairs). */
  extraArgs?: readonly string[];
  /** Require a password (true): the users of redis-auth.ts, passwords kept in `dir`. */
  auth?: boolean;
  /** The users' passwords, instead of those kept in `dir` (servers that replicate each other share them). */
  credentials?: RedisCredentials;
  /** Told about the process as soon as it is spawned, before it is up (so that it can be stopped meanwhile). */
  onSpawn?: (process: ManagedProcess) => void;
  /** QUEUE_PREFIX of the services (the worker user's keys); QUEUE_PREFIX or 'tessera' by default. */
  prefix?: string;
  /** Redis' `maxmemory`; REDIS_MAXMEMORY or 1gb by default. */
  maxmemory?: string;
}

export interface RedisHandle {
  /** The admin user's URL (every command); without auth, the bare address. */
  url: string;
  /** A URL per user: the API and the worker get their own. */
  urls: Record<RedisUser, string>;
  credentials: RedisCredentials | undefined;
  host: string;
  port: number;
  dir: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Sends PING over a raw connection (after AUTH, given a user); resolves true on +PONG. */
export function redisPing(
  port: number,
  host: string = LOOPBACK,
  timeoutMs = 1000,
  auth?: { user: string; password: string },
): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = createConnection({ port, host });
    let buffer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    const login = auth ? `*3\r\n${bulk('AUTH')}${bulk(auth.user)}${bulk(auth.password)}` : '';
    socket.once('connect', () => socket.write(`${login}*1\r\n$4\r\nPING\r\n`));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      const lines = buffer.split('\r\n');
      if (lines.length > (auth ? 2 : 1))
        done((auth ? lines[0] === '+OK' : true) && lines[auth ? 1 : 0]!.startsWith('+PONG'));
    });
  });
}

/**
 * redis-server as a child process: its own directory, loopback only, passwords required (see
 * redis-auth.ts), append-only persistence fsynced every second (API keys and queued jobs survive
 * a restart, losing at most a second of writes), and a memory bound that never evicts (BullMQ
 * requires its keys to stay; the response cache keeps to its own byte budget inside it).
 */
export async function startRedis(options: RedisOptions): Promise<RedisHandle> {
  const host = options.host ?? LOOPBACK;
  const port = options.port || (await freePort(host));
  // Something else answering PING on the port would pass for this server.
  if (options.port) await assertPortFree(port, options.name ?? 'redis', host);
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const bin = options.bin ?? requireExecutable('redis-server', 'REDIS_SERVER_BIN');
  const credentials = options.auth === false ? undefined : (options.credentials ?? redisCredentials(dir));
  const aclArgs = credentials
    ? ['--aclfile', writeRedisAcl(dir, credentials, options.prefix ?? process.env.QUEUE_PREFIX ?? 'tessera')]
    : [];
  const args = [
    '--port',
    String(port),
    '--bind',
    host,
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
    '--maxmemory',
    options.maxmemory ?? process.env.REDIS_MAXMEMORY ?? '1gb',
    '--maxmemory-policy',
    'noeviction',
    '--logfile',
    '',
    ...aclArgs,
    ...(options.extraArgs ?? []),
  ];
  const name = options.name ?? 'redis';
  const proc = await ManagedProcess.start({
    name,
    command: bin,
    args,
    cwd: dir,
    logFile: join(options.logDir ?? dir, `${name}.log`),
    echo: options.echo ?? false,
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 5000,
  });
  options.onSpawn?.(proc);
  try {
    const auth = credentials && { user: 'admin', password: credentials.admin };
    // Replaying a large append-only file takes a while: the server answers LOADING until done.
    await waitFor(`${name} to answer PING on ${host}:${port}`, () => redisPing(port, host, 1000, auth), {
      timeoutMs: options.startTimeoutMs ?? 15_000,
      intervalMs: 50,
      abort: proc.exitAsError(),
    });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  const bare = `redis://${host}:${port}`;
  const urls = credentials ? redisUrls(host, port, credentials) : { admin: bare, api: bare, worker: bare };
  return {
    url: urls.admin,
    urls,
    credentials,
    host,
    port,
    dir,
    process: proc,
    stop: async () => {
      await proc.stop();
    },
  };
}
