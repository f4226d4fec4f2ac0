import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { findRepoRoot, freePort, ManagedProcess, requireExecutable, waitFor } from '@tessera/topology';

/**
 * The Redis configuration that Kubernetes and Compose ship (deploy/k8s/base/redis.conf), run by
 * a real redis-server with the password passed as the deployments pass it: clients without it
 * are refused, and a restarted server still has what was written (API keys live there).
 */
const conf = path.join(findRepoRoot(), 'deploy/k8s/base/redis.conf');
const dir = mkdtempSync(path.join(tmpdir(), 'tessera-redis-deploy-'));
const password = 'deploy-test-password';
let port: number;
let server: ManagedProcess | undefined;

async function start(): Promise<void> {
  // Only what differs on a test host: the port, the data directory and loopback.
  server = await ManagedProcess.start({
    name: 'redis-deploy',
    command: requireExecutable('redis-server', 'REDIS_SERVER_BIN'),
    args: [conf, '--port', String(port), '--dir', dir, '--bind', '127.0.0.1', '--requirepass', password],
    logFile: path.join(dir, 'redis.log'),
  });
  await waitFor(
    'redis with the deployment config',
    async () => {
      const client = new Redis({
        port,
        password,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    },
    { timeoutMs: 15_000, intervalMs: 100, abort: server.exitAsError() },
  );
}

before(async () => {
  port = await freePort();
  await start();
});

after(async () => {
  await server?.stop();
});

const client = () => {
  const c = new Redis({ port, password, maxRetriesPerRequest: 1 });
  c.on('error', () => {});
  return c;
};

test('a client without the password is refused', async () => {
  // A raw PING, as any client would send first.
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString('latin1'));
    });
    socket.once('error', reject);
  });
  assert.match(answer, /^-NOAUTH/);
});

test('append-only, fsync every second, noeviction, maxmemory set', async () => {
  const c = client();
  try {
    const get = async (name: string) => ((await c.config('GET', name)) as string[])[1];
    assert.equal(await get('appendonly'), 'yes');
    assert.equal(await get('appendfsync'), 'everysec');
    assert.equal(await get('maxmemory-policy'), 'noeviction');
    assert.equal(Number(await get('maxmemory')), 2 ** 30);
  } finally {
    c.disconnect();
  }
});

test('what was written survives a restart', async () => {
  const c = client();
  await c.hset('tessera:deploy-test:key', { name: 'ops', scopes: 'infer' });
  // SHUTDOWN flushes the append-only file; no RDB snapshot is configured to rescue it otherwise.
  await c.call('SHUTDOWN').catch(() => {
    // SHUTDOWN closes the connection instead of answering.
  });
  c.disconnect();
  await server!.exited;
  await start();
  const again = client();
  try {
    assert.deepEqual(await again.hgetall('tessera:deploy-test:key'), { name: 'ops', scopes: 'infer' });
  } finally {
    again.disconnect();
  }
});
