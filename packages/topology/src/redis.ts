import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { requireExecutable } from './paths.js';
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
}

export interface RedisHandle {
  url: string;
  host: string;
  port: number;
  dir: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** Sends PING over a raw connection; resolves true on +PONG. */
export function redisPing(port: number, host: string = LOOPBACK, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = createConnection({ port, host });
    let buffer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      if (buffer.includes('\r\n')) done(buffer.startsWith('+PONG'));
    });
  });
}

/**
 * redis-server as a child process: its own directory, loopback only, no persistence (the
 * queue is transient state), and no eviction (BullMQ requires keys to stay).
 */
export async function startRedis(options: RedisOptions): Promise<RedisHandle> {
  const host = options.host ?? LOOPBACK;
  const port = options.port || (await freePort(host));
  // Something else answering PING on the port would pass for this server.
  if (options.port) await assertPortFree(port, options.name ?? 'redis', host);
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const bin = options.bin ?? requireExecutable('redis-server', 'REDIS_SERVER_BIN');
  const args = [
    '--port', String(port),
    '--bind', host,
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--maxmemory-policy', 'noeviction',
    '--logfile', '',
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
  try {
    await waitFor(`${name} to answer PING on ${host}:${port}`, () => redisPing(port, host), {
      timeoutMs: options.startTimeoutMs ?? 15_000,
      intervalMs: 50,
      abort: proc.exitAsError(),
    });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return {
    url: `redis://${host}:${port}`,
    host,
    port,
    dir,
    process: proc,
    stop: async () => {
      await proc.stop();
    },
  };
}
