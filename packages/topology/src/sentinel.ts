import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { requireExecutable } from './paths.js';
import { freePorts, LOOPBACK } from './ports.js';
import { ManagedProcess } from './process.js';
import { startRedis, type RedisHandle } from './redis.js';
import { redisCredentials, type RedisCredentials } from './redis-auth.js';
import { redisCommand, type RespValue } from './resp.js';
import { waitFor } from './wait.js';

export interface SentinelGroupOptions {
  /** State directory: one subdirectory per server, the sentinels' config files. */
  dir: string;
  logDir?: string;
  /** The name the sentinels monitor the primary under (REDIS_SENTINEL_NAME): tessera. */
  name?: string;
  /** Sentinels agreeing that the primary is down before a failover (2 of 3). */
  quorum?: number;
  /** How long the primary must be silent before a sentinel deems it down (1000 ms). */
  downAfterMs?: number;
  /** Sentinel's failover-timeout (10000 ms): also the wait before a failed failover is tried again. */
  failoverTimeoutMs?: number;
  /** Extra redis-server arguments for the primary and the replica (e.g. persistence). */
  redisArgs?: readonly string[];
  /** The sentinels' own password (REDIS_SENTINEL_PASSWORD); a random one by default. */
  password?: string;
  echo?: boolean | NodeJS.WritableStream;
}

export interface SentinelGroup {
  name: string;
  /** The primary and the replica as started; after a failover their roles differ. */
  primary: RedisHandle;
  replica: RedisHandle;
  sentinels: ManagedProcess[];
  sentinelPorts: number[];
  /** REDIS_SENTINELS, REDIS_SENTINEL_NAME and REDIS_SENTINEL_PASSWORD for the services. */
  env: { REDIS_SENTINELS: string; REDIS_SENTINEL_NAME: string; REDIS_SENTINEL_PASSWORD: string };
  /** The users' passwords, the same on the primary and the replica (see redis-auth.ts). */
  credentials: RedisCredentials;
  /** The primary the sentinels name now (asked of the first one that answers). */
  currentPrimary(): Promise<{ host: string; port: number }>;
  stop(): Promise<void>;
}

const asList = (value: RespValue): RespValue[] => (Array.isArray(value) ? value : []);

/**
 * A Redis primary, one replica and three redis-sentinel processes on loopback ports: the
 * smallest Sentinel deployment that survives the loss of any one server. Resolves once each
 * sentinel knows the replica and the two other sentinels, i.e. once a failover could happen.
 */
export async function startSentinelGroup(options: SentinelGroupOptions): Promise<SentinelGroup> {
  const dir = resolve(options.dir);
  const logDir = options.logDir ?? dir;
  const name = options.name ?? 'tessera';
  // Both servers have the same users, so that clients and replication (which the primary too
  // needs once it comes back as a replica) log in the same way whichever is primary.
  const credentials = redisCredentials(dir);
  const sentinelPassword = options.password ?? randomBytes(32).toString('base64url');
  const redisArgs = [...(options.redisArgs ?? []), '--masteruser', 'admin', '--masterauth', credentials.admin];
  const started: { stop(): Promise<unknown> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const primary = await startRedis({
      dir: join(dir, 'primary'),
      logDir,
      name: 'redis-primary',
      credentials,
      extraArgs: redisArgs,
      ...(options.echo ? { echo: options.echo } : {}),
    });
    started.push(primary);
    const replica = await startRedis({
      dir: join(dir, 'replica'),
      logDir,
      name: 'redis-replica',
      credentials,
      extraArgs: [...redisArgs, '--replicaof', primary.host, String(primary.port)],
      ...(options.echo ? { echo: options.echo } : {}),
    });
    started.push(replica);
    const password = { user: 'admin', password: credentials.admin };
    await waitFor(
      'the replica to sync with the primary',
      async () =>
        String(await redisCommand(replica.port, replica.host, ['INFO', 'replication'], password)).includes(
          'master_link_status:up',
        ),
      { timeoutMs: 15_000, intervalMs: 100 },
    );

    const bin = requireExecutable('redis-sentinel', 'REDIS_SENTINEL_BIN');
    const ports = await freePorts(3);
    const sentinels: ManagedProcess[] = [];
    for (const [i, port] of ports.entries()) {
      const own = join(dir, `sentinel-${i + 1}`);
      mkdirSync(own, { recursive: true });
      // Sentinel rewrites its config file with what it learns, so each has its own, writable.
      const conf = join(own, 'sentinel.conf');
      writeFileSync(
        conf,
        sentinelConf({
          port,
          dir: own,
          name,
          primary,
          quorum: options.quorum ?? 2,
          downAfterMs: options.downAfterMs ?? 1000,
          failoverTimeoutMs: options.failoverTimeoutMs ?? 10_000,
          admin: credentials.admin,
          sentinelPassword,
        }),
        { mode: 0o600 },
      );
      const proc = await ManagedProcess.start({
        name: `sentinel-${i + 1}`,
        command: bin,
        args: [conf],
        cwd: own,
        logFile: join(logDir, `sentinel-${i + 1}.log`),
        echo: options.echo ?? false,
        stopTimeoutMs: 5000,
      });
      started.push(proc);
      sentinels.push(proc);
    }
    const ask = (port: number, args: string[]) => redisCommand(port, LOOPBACK, args, { password: sentinelPassword });
    await waitFor(
      'every sentinel to know the replica and the other sentinels',
      async () => {
        for (const port of ports) {
          const replicas = asList(await ask(port, ['SENTINEL', 'REPLICAS', name]));
          const peers = asList(await ask(port, ['SENTINEL', 'SENTINELS', name]));
          if (replicas.length < 1 || peers.length < ports.length - 1) return false;
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    return {
      name,
      primary,
      replica,
      sentinels,
      sentinelPorts: ports,
      env: {
        REDIS_SENTINELS: ports.map((p) => `${LOOPBACK}:${p}`).join(','),
        REDIS_SENTINEL_NAME: name,
        REDIS_SENTINEL_PASSWORD: sentinelPassword,
      },
      credentials,
      currentPrimary: async () => {
        let last: unknown;
        for (const port of ports) {
          try {
            const [host, primaryPort] = asList(await ask(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]));
            return { host: String(host), port: Number(primaryPort) };
          } catch (error) {
            last = error;
          }
        }
        throw new Error(`no sentinel answered: ${(last as Error)?.message}`);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** A sentinel that requires its own password of clients and peers, and logs in to the servers as admin. */
function sentinelConf(c: {
  port: number;
  dir: string;
  name: string;
  primary: RedisHandle;
  quorum: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
  admin: string;
  sentinelPassword: string;
}): string {
  return [
    `port ${c.port}`,
    `bind ${LOOPBACK}`,
    'daemonize no',
    'logfile ""',
    `dir ${c.dir}`,
    `sentinel monitor ${c.name} ${c.primary.host} ${c.primary.port} ${c.quorum}`,
    `sentinel down-after-milliseconds ${c.name} ${c.downAfterMs}`,
    `sentinel failover-timeout ${c.name} ${c.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${c.name} 1`,
    `sentinel auth-user ${c.name} admin`,
    `sentinel auth-pass ${c.name} ${c.admin}`,
    `requirepass ${c.sentinelPassword}`,
    `sentinel sentinel-pass ${c.sentinelPassword}`,
    '',
  ].join('\n');
}
