import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startStack, type Stack } from '@tessera/topology';
import { cli } from './cli.js';
import { request, waitFor } from './http.js';
import { modelRepository } from './repository.js';

/**
 * Redis as a secured, durable store: no client gets in without a password, the API and worker
 * users cannot run what they do not need (the worker cannot even read an API key), every
 * command a real run issues is allowed (the ACL log stays empty), and a restarted Redis still
 * knows every key.
 */
let stack: Stack;
const clients: Redis[] = [];

const connect = (url: string): Redis => {
  const conn = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  conn.on('error', () => {});
  clients.push(conn);
  return conn;
};

before(async () => {
  stack = await startStack({
    replicas: 1,
    workers: 1,
    modelRepository: await modelRepository(),
    logDir: mkdtempSync(path.join(tmpdir(), 'tessera-redis-')),
    env: { LOG_LEVEL: 'warn' },
  });
});

after(async () => {
  for (const c of clients) c.disconnect();
  await stack?.stop();
});

const affine = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] };

test('Redis refuses clients without a password, and each service user only what it needs', async () => {
  const anonymous = connect(stack.redisUrl.replace(/\/\/[^@]*@/, '//'));
  await assert.rejects(anonymous.ping(), /NOAUTH/);
  const api = connect(stack.redisUrls.api);
  for (const command of [
    ['config', 'set', 'appendonly', 'no'],
    ['flushall'],
    ['acl', 'setuser', 'default', 'on', 'nopass'],
    ['keys', '*'],
    ['client', 'list'],
    ['script', 'flush'],
  ]) {
    await assert.rejects(api.call(command[0]!, ...command.slice(1)), /NOPERM/, `api: ${command.join(' ')}`);
  }
  const { stdout } = await cli('keys', ['create', '--name', 'probe', '--scopes', 'admin', '--json'], stack.redisUrl);
  const { id } = JSON.parse(stdout) as { id: string };
  assert.ok(await api.get(`tessera:apikey:${id}`), 'the API reads keys');
  const worker = connect(stack.redisUrls.worker);
  await assert.rejects(worker.get(`tessera:apikey:${id}`), /NOPERM/, 'a worker cannot read an API key');
  await assert.rejects(worker.set('tessera:apikey:forged', '{}'), /NOPERM/, 'nor write one');
  await assert.rejects(worker.call('config', 'get', 'requirepass'), /NOPERM/);
});

test('persistence is append-only, fsynced every second, and memory is bounded without eviction', async () => {
  const admin = connect(stack.redisUrl);
  const get = async (name: string) => ((await admin.config('GET', name)) as string[])[1];
  const config = Object.fromEntries(
    await Promise.all(
      ['appendonly', 'appendfsync', 'maxmemory-policy', 'maxmemory'].map(async (n) => [n, await get(n)]),
    ),
  );
  assert.equal(config.appendonly, 'yes');
  assert.equal(config.appendfsync, 'everysec');
  assert.equal(config['maxmemory-policy'], 'noeviction');
  assert.ok(Number(config.maxmemory) > 0, 'maxmemory is set');
});

test('a real run (inference, pipeline, cache, idempotency, queue admin) needs no command the ACL denies; keys survive a Redis restart', async () => {
  const key = JSON.parse(
    (await cli('keys', ['create', '--name', 'survivor', '--scopes', 'infer,admin', '--json'], stack.redisUrl)).stdout,
  ).key as string;
  const headers = { authorization: `Bearer ${key}` };
  const admin = connect(stack.redisUrl);
  await admin.call('acl', 'log', 'reset');
  const infer = () => request(`${stack.gatewayUrl}/v2/models/affine/infer`, { body: affine, headers });
  assert.equal((await infer()).status, 200);
  assert.equal((await infer()).headers.get('x-cache'), 'hit');
  assert.equal(
    (
      await request(`${stack.gatewayUrl}/v2/models/affine/infer`, {
        body: affine,
        headers: { ...headers, 'idempotency-key': 'once', 'cache-control': 'no-cache' },
      })
    ).status,
    200,
  );
  assert.equal(
    (await request(`${stack.gatewayUrl}/predict`, { body: { texts: ['Ceci est une phrase.'] }, headers })).status,
    200,
  );
  for (const op of ['pause', 'resume'])
    assert.equal(
      (await request(`${stack.gatewayUrl}/admin/models/affine/${op}`, { method: 'POST', headers })).status,
      200,
      op,
    );
  assert.equal((await request(`${stack.gatewayUrl}/admin/models/affine`, { headers })).status, 200);
  assert.equal((await cli('queues', ['status', 'affine'], stack.redisUrl)).stdout.includes('affine'), true);
  assert.deepEqual(await admin.call('acl', 'log'), [], 'no command of the run was denied');

  // Written as the services write (MULTI/EXEC, as BullMQ and the key CLI do): replayed on restart.
  assert.deepEqual(
    await connect(stack.redisUrls.api).multi().set('tessera:probe:tx', 'kept').sadd('tessera:probe:set', 'a').exec(),
    [
      [null, 'OK'],
      [null, 1],
    ],
  );
  await stack.restart('redis');
  const answered = await waitFor('inference after the Redis restart', async () => {
    const res = await infer();
    return res.status === 200 ? res : undefined;
  });
  assert.deepEqual(answered.body.outputs[0].data, [3, 5, 7, 9], 'the key written before the restart still works');
  assert.equal(
    await connect(stack.redisUrl).get('tessera:probe:tx'),
    'kept',
    'a transaction is replayed from the append-only file',
  );
});
