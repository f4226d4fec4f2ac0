import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findExecutable } from './paths.js';
import { freePort, isListening } from './ports.js';
import { redisPing, startRedis } from './redis.js';
import { startNginx } from './nginx.js';
import { startStack } from './stack.js';
import { liveProcesses, type ManagedProcess } from './process.js';
import { waitFor } from './wait.js';

const redisBin = process.env.REDIS_SERVER_BIN || findExecutable('redis-server');
const nginxBin = process.env.NGINX_BIN || findExecutable('nginx');
// Installed by node scripts/bootstrap.mjs (npm test runs it): a missing one fails, never skips.
before(() => {
  assert.ok(redisBin, 'redis-server is not installed (node scripts/bootstrap.mjs installs it)');
  assert.ok(nginxBin, 'nginx is not installed (node scripts/bootstrap.mjs installs it)');
});

function groupAlive(proc: ManagedProcess): boolean {
  try {
    process.kill(-proc.pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function http(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-topology-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('redis-server starts on a free port, answers PING and stops without a trace', async () => {
  const redis = await startRedis({ dir: join(dir, 'redis') });
  assert.match(redis.url, /^redis:\/\/admin:[\w-]{43}@127\.0\.0\.1:\d+$/);
  assert.equal(await redisPing(redis.port), false, 'no password: refused');
  assert.equal(await redisPing(redis.port, '127.0.0.1', 1000, { user: 'api', password: redis.credentials!.api }), true);
  assert.equal(
    await redisPing(redis.port, '127.0.0.1', 1000, { user: 'api', password: redis.credentials!.worker }),
    false,
    "another user's password: refused",
  );
  await redis.stop();
  assert.equal(redis.process.running, false);
  assert.equal(await isListening(redis.port), false);
  assert.equal(groupAlive(redis.process), false);
});

test('startRedis fails clearly when the port is taken', async () => {
  const first = await startRedis({ dir: join(dir, 'redis-a') });
  try {
    await assert.rejects(
      startRedis({ dir: join(dir, 'redis-b'), port: first.port, startTimeoutMs: 5000 }),
      /port \d+ on 127\.0\.0\.1 is already in use/,
    );
  } finally {
    await first.stop();
  }
});

describe('nginx in front of stand-in API servers', () => {
  const seen: IncomingHttpHeaders[] = [];
  const servers: Server[] = [];
  const ports: number[] = [];
  let nginx: Awaited<ReturnType<typeof startNginx>>;

  before(async () => {
    for (let i = 0; i < 2; i++) {
      const server = createServer((req, res) => {
        seen.push(req.headers);
        // A replica that dies while it handles the request.
        if (req.url === '/die') return void req.socket.destroy();
        req.resume();
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ replica: i, url: req.url, method: req.method }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      assert.ok(address && typeof address === 'object');
      servers.push(server);
      ports.push(address.port);
    }
    nginx = await startNginx({
      listenPort: await freePort(),
      apiPorts: ports,
      prefix: join(dir, 'nginx'),
      logDir: join(dir, 'logs'),
    });
  });

  after(async () => {
    await nginx?.stop();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  test('proxies to the replicas with keep-alive and forwarding headers', async () => {
    const replicas = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const res = await http(`${nginx.url}/v2/health/ready`);
      assert.equal(res.status, 200);
      replicas.add((JSON.parse(res.body) as { replica: number }).replica);
    }
    assert.deepEqual([...replicas].sort(), [0, 1], 'requests reach both replicas');
    const headers = seen.at(-1)!;
    assert.match(String(headers['x-request-id']), /^[0-9a-f]{32}$/);
    assert.equal(headers['x-real-ip'], '127.0.0.1');
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers.connection, undefined, 'upstream connections are kept alive');
  });

  test('passes the client request id through', async () => {
    await http(`${nginx.url}/x`, { headers: { 'x-request-id': 'client-id-1' } });
    assert.equal(seen.at(-1)!['x-request-id'], 'client-id-1');
  });

  test('/metrics is not proxied, whatever its spelling', async () => {
    const before = seen.length;
    for (const path of ['/metrics', '/METRICS', '/Metrics/', '/metrics/x', '/metricsx']) {
      const res = await http(`${nginx.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.deepEqual(JSON.parse(res.body), { error: 'not found', code: 'not_found' });
    }
    assert.equal(seen.length, before);
  });

  test('bodies above 65 MiB get a JSON 413 from the gateway, smaller ones pass', async () => {
    const ok = await http(`${nginx.url}/v2/models/m/infer`, {
      method: 'POST',
      body: Buffer.alloc(64 * 1024 * 1024, 32),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(ok.status, 200);
    const res = await http(`${nginx.url}/v2/models/m/infer`, {
      method: 'POST',
      body: Buffer.alloc(66 * 1024 * 1024, 32),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 413);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'payload_too_large');
  });

  test('writes a JSON access log line per request', async () => {
    const { readFileSync } = await import('node:fs');
    // nginx writes the line once the response is sent, not necessarily before the client reads it.
    const lines = await waitFor('an access log line', async () => {
      const text = readFileSync(nginx.accessLog, 'utf8').trim();
      return text ? text.split('\n') : undefined;
    });
    const entry = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    assert.equal(typeof entry.request_id, 'string');
    assert.equal(typeof entry.status, 'number');
  });

  test("the gateway's own errors are JSON: a NUL in the path, an 8 KiB header, a 9 KiB URI", async () => {
    const cases = [
      { res: await http(`${nginx.url}/v2/models/%00/infer`), status: 400, code: 'bad_request' },
      {
        res: await http(`${nginx.url}/v2/health/ready`, { headers: { 'x-big': 'a'.repeat(8 * 1024) } }),
        status: 431,
        code: 'header_too_large',
      },
      { res: await http(`${nginx.url}/v2/${'a'.repeat(9 * 1024)}`), status: 414, code: 'uri_too_long' },
    ];
    for (const { res, status, code } of cases) {
      assert.equal(res.status, status, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const body = JSON.parse(res.body) as { code: string; error: string };
      assert.equal(body.code, code);
      assert.equal(typeof body.error, 'string');
    }
  });

  test('a replica that dies while handling a request: 503 saying the request may have been accepted', async () => {
    const res = await http(`${nginx.url}/die`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    const body = JSON.parse(res.body) as { code: string; error: string };
    assert.equal(body.code, 'not_ready');
    assert.match(body.error, /may have been accepted.*same Idempotency-Key/);
  });

  test('answers a JSON 503 when no replica is reachable, and stops cleanly', async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    const res = await http(`${nginx.url}/v2/health/ready`);
    assert.equal(res.status, 503);
    const body = JSON.parse(res.body) as { code: string; error: string };
    assert.equal(body.code, 'not_ready');
    assert.match(body.error, /was not accepted/);
    await nginx.stop();
    assert.equal(await isListening(nginx.port), false);
    assert.equal(groupAlive(nginx.process), false, 'no nginx worker is left');
  });
});

// A stand-in for the API and the worker: /live and /ready on PORT (or METRICS_PORT), and /env.
const STAND_IN = `
const http = require('node:http');
const port = Number(process.env.PORT || process.env.METRICS_PORT);
if (process.env.STAND_IN_FAIL === '1') { console.error('stand-in failing on purpose'); process.exit(3); }
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: req.url, replica: process.env.REPLICA_ID, worker: process.env.WORKER_ID,
    redis: process.env.REDIS_URL, models: process.env.MODEL_REPOSITORY, extra: process.env.EXTRA, cuda: process.env.CUDA_DEVICE_ID }));
});
// A restart that never comes up: alive, never listening.
if (process.env.STAND_IN_HANG && require('node:fs').existsSync(process.env.STAND_IN_HANG)) setInterval(() => {}, 1000);
else server.listen(port, '127.0.0.1', () => console.log('listening on ' + port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

describe('startStack with stand-in services', () => {
  test('starts redis, workers, replicas and nginx, and stop() leaves nothing behind', async () => {
    const stack = await startStack({
      replicas: 2,
      workers: 2,
      runDir: join(dir, 'stack'),
      // A two-GPU host as CUDA_DEVICES describes it: worker i gets device i.
      baseEnv: { ...process.env, CUDA_DEVICES: '0,1' },
      modelRepository: '/models-here',
      env: { EXTRA: 'yes' },
      apiCommand: [process.execPath, '-e', STAND_IN],
      workerCommand: [process.execPath, '-e', STAND_IN],
      readyTimeoutMs: 20_000,
    });
    const ports = [stack.gatewayUrl, stack.redisUrl, ...stack.apiUrls, ...stack.workerUrls].map((u) =>
      Number(new URL(u).port),
    );
    const procs = stack.processes;
    try {
      assert.deepEqual(procs.map((p) => p.name).sort(), ['api-1', 'api-2', 'nginx', 'redis', 'worker-1', 'worker-2']);
      const ready = await http(`${stack.gatewayUrl}/ready`);
      assert.equal(ready.status, 200);
      const body = JSON.parse(ready.body) as Record<string, string>;
      assert.match(body.replica!, /^api-[12]$/);
      assert.equal(body.redis, stack.redisUrls.api, 'replicas log in as the api user');
      assert.equal(body.models, '/models-here');
      assert.equal(body.extra, 'yes');
      const worker = JSON.parse((await http(`${stack.workerUrls[0]}/live`)).body) as Record<string, string>;
      assert.equal(worker.worker, 'worker-1');
      assert.equal(worker.redis, stack.redisUrls.worker, 'workers log in as the worker user');
      assert.equal(worker.cuda, '0');
      assert.equal(
        (JSON.parse((await http(`${stack.workerUrls[1]}/live`)).body) as Record<string, string>).cuda,
        '1',
        'the second worker is on the second GPU',
      );
      assert.equal(stack.workerMetricsUrl, `${stack.workerUrls[0]}/metrics`);
      const redisPort = Number(new URL(stack.redisUrl).port);
      assert.equal(await redisPing(redisPort), false, 'Redis refuses a client without a password');
      assert.equal(
        await redisPing(redisPort, '127.0.0.1', 1000, {
          user: 'admin',
          password: decodeURIComponent(new URL(stack.redisUrl).password),
        }),
        true,
      );
      const credentials = join(dir, 'stack', 'redis', 'credentials.json');
      assert.equal(statSync(credentials).mode & 0o777, 0o600, 'the passwords are readable by their owner only');
      for (const port of ports) assert.equal(await isListening(port), true, `port ${port} is open`);
    } finally {
      await stack.stop();
    }
    for (const proc of procs) {
      assert.equal(proc.running, false, `${proc.name} has exited`);
      assert.equal(groupAlive(proc), false, `${proc.name} left no process behind`);
    }
    for (const port of ports) assert.equal(await isListening(port), false, `port ${port} is closed`);
  });

  test('restarts a replica that dies, when asked to', async () => {
    const exits: string[] = [];
    const stack = await startStack({
      replicas: 1,
      workers: 0,
      runDir: join(dir, 'stack-restart'),
      modelRepository: '/m',
      apiCommand: [process.execPath, '-e', STAND_IN],
      workerCommand: [process.execPath, '-e', STAND_IN],
      restart: true,
      onProcessExit: (event) => exits.push(`${event.name}:${event.restarting}`),
    });
    try {
      const first = stack.process('api-1')!;
      first.signal('SIGKILL');
      await first.exited;
      await waitFor(
        'api-1 to come back',
        async () => {
          const current = stack.process('api-1');
          return current !== undefined && current !== first;
        },
        { timeoutMs: 15_000 },
      );
      await stack.waitReady(10_000);
      assert.deepEqual(exits, ['api-1:true']);
      const again = await stack.restart('api-1');
      assert.notEqual(again, first);
      await stack.waitReady(10_000);
    } finally {
      await stack.stop();
    }
  });

  test('stop() also stops a restart that has not come up yet', async () => {
    const hang = join(dir, 'stack-hang', 'hang');
    const stack = await startStack({
      replicas: 1,
      workers: 1,
      runDir: join(dir, 'stack-hang'),
      modelRepository: '/m',
      apiCommand: [process.execPath, '-e', STAND_IN],
      workerCommand: [process.execPath, '-e', STAND_IN],
      workerEnv: { STAND_IN_HANG: hang },
      restart: true,
    });
    let restarting: ManagedProcess | undefined;
    try {
      const first = stack.process('worker-1')!;
      writeFileSync(hang, '');
      first.signal('SIGKILL');
      restarting = await waitFor('worker-1 to be started again', async () =>
        liveProcesses().find((p) => p.name === 'worker-1' && p !== first && p.running),
      );
    } finally {
      await stack.stop();
    }
    assert.equal(restarting.running, false, 'the process still starting was stopped with the stack');
  });

  test('a service that cannot start fails startStack with its log, and nothing is left running', async () => {
    const runDir = join(dir, 'stack-fail');
    let error: unknown;
    try {
      await startStack({
        replicas: 1,
        workers: 1,
        runDir,
        modelRepository: '/m',
        apiCommand: [process.execPath, '-e', STAND_IN],
        workerCommand: [process.execPath, '-e', STAND_IN],
        workerEnv: { STAND_IN_FAIL: '1' },
      });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof Error);
    assert.match(error.message, /worker-1 exited \(code 3\)/);
    assert.match(error.message, /stand-in failing on purpose/);
    assert.match(error.message, /worker-1\.log/);
    const { liveProcesses } = await import('./process.js');
    assert.deepEqual(
      liveProcesses().map((p) => p.name),
      [],
    );
  });
});
